using System.Security.Cryptography;
using FlyteSharp.Execution.Python;
using FlyteSharp.Runner;

namespace FlyteSharp.Images;

/// <summary>
/// The first layer of an image built from a base: the base image (a public Debian/Python image from
/// configuration, or a URI you give), a virtual environment on PATH, and FlyteSharp's Python runner.
/// </summary>
/// <param name="Uri">An explicit base image, or null for the configured Python base.</param>
/// <param name="PythonVersion">The Python version substituted into the configured base (<c>{python}</c>).</param>
public sealed record BaseImageLayer(string? Uri, string? PythonVersion) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        var uri = Uri ?? plan.Config.PythonBaseImage.Replace("{python}", PythonVersion, StringComparison.Ordinal);
        plan.Hash.Begin("base");
        plan.Hash.Field("image", uri);
        plan.Hash.Field("python", Uri is null ? PythonVersion : null);
        plan.Line($"FROM {uri}");
        PythonPrelude(plan, createVenv: true);
        plan.Hash.End();
    }

    /// <summary>
    /// What every FlyteSharp Python image has: the venv on PATH (uv installs into it via
    /// <c>UV_PROJECT_ENVIRONMENT</c>), <c>/root</c> on PYTHONPATH and as workdir, and the runner script.
    /// </summary>
    internal static void PythonPrelude(ImageBuildPlan plan, bool createVenv)
    {
        var venv = ImageBuildPlan.VirtualEnv;
        plan.Line("USER root");
        plan.Line($"ENV VIRTUAL_ENV={venv} \\\n    UV_PROJECT_ENVIRONMENT={venv} \\\n    PATH={venv}/bin:$PATH \\\n    PYTHONPATH=/root \\\n    PYTHONUNBUFFERED=1 \\\n    UV_LINK_MODE=copy \\\n    UV_COMPILE_BYTECODE=1 \\\n    UV_PYTHON_DOWNLOADS=never \\\n    UV_CACHE_DIR=/root/.cache/uv");
        if (createVenv)
        {
            plan.Line($"RUN python3 -m venv --without-pip {venv}");
        }

        var runner = PythonRunnerScript.Bytes;
        var contextPath = $"{ImageBuildPlan.ContextPrefix}/runner/{PythonRunnerScript.FileName}";
        plan.AddBytes(contextPath, runner);
        plan.Hash.File(PythonRunnerScript.ImagePath, false, SHA256.HashData(runner));
        plan.Line($"COPY {contextPath} {PythonRunnerScript.ImagePath}");
        plan.SetWorkdir("/root");
        plan.PythonExecutable = venv + "/bin/python";
    }
}
