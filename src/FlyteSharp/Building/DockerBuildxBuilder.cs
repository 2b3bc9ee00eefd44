namespace FlyteSharp.Building;

/// <summary>
/// Builds with <c>docker buildx build</c> (BuildKit), pushing in the same step when the image has a
/// registry; for users with a running Docker daemon.
/// </summary>
internal sealed class DockerBuildxBuilder(string executable = "docker") : IImageBuilder
{
    public string Name => "docker";

    public async Task BuildAsync(ImageBuildRequest request, CancellationToken cancellationToken = default)
    {
        var build = await CliProcess.RunAsync(executable, BuildArguments(request), request.Output, cancellationToken: cancellationToken).ConfigureAwait(false);
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
}
