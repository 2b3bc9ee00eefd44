using System.Text.Json;
using FlyteSharp.Deploy;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Deploy;

public class DeployerTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task Deploy_CopyStyleNoneWithVersion_ImageCarriesCodeAndRunsWithoutBundle()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", """
            def double(x: int) -> dict:
                return {"value": x * 2, "code": "deployed"}
            """);
        var env = new TaskEnvironment("prod", Image.FromDebianBase("3.11").WithCodeBundle(), new Resources(Cpu: "500m", Memory: "128Mi"));
        var twice = env.PythonTask<int, Dictionary<string, JsonElement>>("app.ops:double");
        using var runtime = new FlyteRuntime(project.Config with { RootDir = project.SrcDir });
        var options = new DeployOptions { CancellationToken = ct };
        var fastDeployUri = env.Image.Resolve(new ImageResolveOptions(runtime.Config, CopyStyle.All)).Uri;

        var deployment = await runtime.Deploy(env, CopyStyle.None, "1.2.3", options);

        // The code is in the image: its source is gone from disk, no bundle exists, and the run still works.
        Directory.Delete(project.SrcDir, recursive: true);
        var run = await new FlyteRuntime(project.Config).Run(twice, 21, new RunOptions { Version = "1.2.3", CancellationToken = ct });
        var output = await run.GetOutputAsync(ct);

        Assert.Equal(42, output["value"].GetInt32());
        Assert.Equal("deployed", output["code"].GetString());
        Assert.Null(run.BundleDigest);
        Assert.False(Directory.Exists(Path.Combine(project.Config.Home, "store", "blobs")), "a deploy or deployed run uploaded a bundle");
        Assert.NotEqual(fastDeployUri, deployment.ImageUri); // the code is part of the full-build tag
        var listed = Assert.Single(runtime.Deployments("1.2.3"));
        Assert.Equal(("prod", deployment.ImageUri, "/root"), (listed.Environment, listed.ImageUri, listed.CodeDirectory));
        Assert.Equal([("app.ops:double", TaskKind.Python)], listed.Tasks.Select(t => (t.Name, t.Kind)));
        Assert.Equal("app.ops:double", listed.Tasks[0].Entry);
        Assert.Equal(("500m", "128Mi"), (listed.Resources.Cpu, listed.Resources.Memory));
        Assert.Contains("--bundle-dir /root", listed.Entry);
        var (code, text) = await Podman.RunAsync("run", "--rm", deployment.ImageUri, "cat", "/root/app/ops.py");
        Assert.Equal(0, code);
        Assert.Contains("def double", text);
    }

    [Fact]
    public async Task Deploy_CopyStyleNoneWithoutVersion_RefusesWithHint()
    {
        using var project = new PodmanProject(registry);
        var env = new TaskEnvironment("prod", Image.FromDebianBase("3.11").WithCodeBundle());

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            new FlyteRuntime(project.Config with { RootDir = project.SrcDir }).Deploy(env, CopyStyle.None, version: null));

        Assert.Contains("version is required with CopyStyle.None", ex.Message);
        Assert.Contains("git", ex.Fix);
        Assert.Empty(project.BuildLogs());
    }

    [Fact]
    public async Task Deploy_SameVersionWithChangedCode_RefusesToRebindVersion()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def f() -> int:\n    return 1\n");
        var env = new TaskEnvironment("prod", Image.FromDebianBase("3.11").WithCodeBundle());
        using var runtime = new FlyteRuntime(project.Config with { RootDir = project.SrcDir });
        var options = new DeployOptions { CancellationToken = ct };
        await runtime.Deploy(env, CopyStyle.None, "7", options);
        project.WritePython("app/ops.py", "def f() -> int:\n    return 2\n");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => runtime.Deploy(env, CopyStyle.None, "7", options));

        Assert.Contains("already deployed", ex.Message);
        Assert.Single(runtime.Deployments("7"));
    }

    [Fact]
    public async Task Run_UnknownVersion_SaysNothingIsDeployed()
    {
        using var project = new PodmanProject(registry);
        var env = new TaskEnvironment("prod", Image.FromDebianBase("3.11").WithCodeBundle());
        var f = env.PythonTask<int>("app.ops:f");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            new FlyteRuntime(project.Config).Run(f, new RunOptions { Version = "9.9.9", CancellationToken = TestContext.Current.CancellationToken }));

        Assert.Contains("no deployment is recorded under version '9.9.9'", ex.Message);
    }
}
