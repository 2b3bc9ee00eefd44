using System.Text.RegularExpressions;
using FlyteSharp.Processes;

namespace FlyteSharp.Building;

/// <summary>
/// Builds with <c>docker buildx build</c> (BuildKit), pushing in the same step when the image has a
/// registry; for users with a running Docker daemon.
/// </summary>
internal sealed partial class DockerBuildxBuilder(string executable = "docker") : IImageBuilder
{
    public string Name => "docker";

    public async Task BuildAsync(ImageBuildRequest request, CancellationToken cancellationToken = default)
    {
        var build = await CliProcess.RunAsync(executable, BuildArguments(request), WithSteps(request), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!build.Succeeded)
        {
            // buildx pushes within the build; a failure after the last step is a push failure.
            if (request.Push && build.Combined.Contains("pushing", StringComparison.OrdinalIgnoreCase)
                && DockerfileInstructions.FindFailing(File.ReadAllText(request.DockerfilePath), build.Combined) is null)
            {
                throw BuildFailure.PushFailed(Name, request.ImageUri, build.Combined);
            }

            throw BuildFailure.FromOutput(Name, request.DockerfilePath, build.Combined);
        }
    }

    public async Task<bool> ExistsLocallyAsync(string imageUri, CancellationToken cancellationToken = default) =>
        (await CliProcess.RunAsync(executable, ["image", "inspect", "--format", "{{.Id}}", imageUri], cancellationToken: cancellationToken).ConfigureAwait(false)).Succeeded;

    internal static IReadOnlyList<string> BuildArguments(ImageBuildRequest request)
    {
        var output = request.Push
            ? "type=image,name=" + request.ImageUri + ",push=true" + (request.InsecureRegistry ? ",registry.insecure=true" : "")
            : "type=docker,name=" + request.ImageUri;
        return ["buildx", "build", "--progress", "plain", "--file", request.DockerfilePath, "--tag", request.ImageUri, "--output", output, request.ContextDirectory];
    }

    /// <summary>
    /// The step a line of <c>--progress plain</c> output starts, in podman's words: <c>#5 [2/4] RUN uv sync</c> (or
    /// <c>#5 [stage-1 2/4] …</c>) is <c>STEP 2/4: RUN uv sync</c>, with its vertex number <c>5</c>; <c>#9 pushing layers</c> is
    /// the push. Null for any other line.
    /// </summary>
    internal static (string Vertex, string Step)? StepOf(string line, string imageUri)
    {
        var match = StepLine().Match(line);
        if (match.Success)
        {
            return (match.Groups["vertex"].Value, $"STEP {match.Groups["index"].Value}: {match.Groups["instruction"].Value.TrimEnd()}");
        }

        match = PushLine().Match(line);
        return match.Success ? (match.Groups["vertex"].Value, "PUSH " + imageUri) : null;
    }

    private static Action<string>? WithSteps(ImageBuildRequest request)
    {
        if (request.Step is not { } step)
        {
            return request.Output;
        }

        // BuildKit prints a vertex's name again whenever its output resumes after another's; each step is reported once.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return line =>
        {
            request.Output?.Invoke(line);
            if (StepOf(line, request.ImageUri) is { } started && seen.Add(started.Vertex))
            {
                step(started.Step);
            }
        };
    }

    [GeneratedRegex(@"^#(?<vertex>\d+) \[(?:[^\]]*? )?(?<index>\d+/\d+)\] (?<instruction>.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex StepLine();

    [GeneratedRegex(@"^#(?<vertex>\d+) pushing layers", RegexOptions.CultureInvariant)]
    private static partial Regex PushLine();
}
