using System.Text.RegularExpressions;
using FlyteSharp.Processes;

namespace FlyteSharp.Building;

/// <summary>Builds with <c>podman build</c> (buildah inside) and pushes with <c>podman push</c>.</summary>
internal sealed partial class PodmanBuilder(string executable = "podman") : IImageBuilder
{
    public string Name => "podman";

    public string Executable { get; } = executable;

    public async Task BuildAsync(ImageBuildRequest request, CancellationToken cancellationToken = default)
    {
        var build = await CliProcess.RunAsync(Executable, BuildArguments(request), WithSteps(request), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!build.Succeeded)
        {
            throw BuildFailure.FromOutput(Name, request.DockerfilePath, build.Combined);
        }

        if (request.Push)
        {
            request.Step?.Invoke("PUSH " + request.ImageUri);
            var push = await CliProcess.RunAsync(Executable, PushArguments(request), request.Output, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!push.Succeeded)
            {
                throw BuildFailure.PushFailed(Name, request.ImageUri, push.Combined);
            }
        }
    }

    public async Task<bool> ExistsLocallyAsync(string imageUri, CancellationToken cancellationToken = default) =>
        (await CliProcess.RunAsync(Executable, ["image", "exists", imageUri], cancellationToken: cancellationToken).ConfigureAwait(false)).Succeeded;

    /// <summary>The step a line of <c>podman build</c> output starts, e.g. <c>STEP 3/7: RUN uv sync</c> (<c>[2/2] STEP 1/4: …</c> in a multi-stage build); null for any other line.</summary>
    internal static string? StepOf(string line) => StepLine().IsMatch(line) ? line.TrimEnd() : null;

    internal static IReadOnlyList<string> BuildArguments(ImageBuildRequest request) =>
        ["build", "--layers", "--file", request.DockerfilePath, "--tag", request.ImageUri, request.ContextDirectory];

    internal static IReadOnlyList<string> PushArguments(ImageBuildRequest request) =>
        request.InsecureRegistry ? ["push", "--tls-verify=false", request.ImageUri] : ["push", request.ImageUri];

    private static Action<string>? WithSteps(ImageBuildRequest request)
    {
        if (request.Step is not { } step)
        {
            return request.Output;
        }

        return line =>
        {
            request.Output?.Invoke(line);
            if (StepOf(line) is { } started)
            {
                step(started);
            }
        };
    }

    [GeneratedRegex(@"^(\[[^\]]+\] )?STEP \d+/\d+: ", RegexOptions.CultureInvariant)]
    private static partial Regex StepLine();
}
