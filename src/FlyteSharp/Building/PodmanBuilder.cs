namespace FlyteSharp.Building;

/// <summary>Builds with <c>podman build</c> (buildah inside) and pushes with <c>podman push</c>.</summary>
internal sealed class PodmanBuilder(string executable = "podman") : IImageBuilder
{
    public string Name => "podman";

    public string Executable { get; } = executable;

    public async Task BuildAsync(ImageBuildRequest request, CancellationToken cancellationToken = default)
    {
        var build = await CliProcess.RunAsync(Executable, BuildArguments(request), request.Output, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!build.Succeeded)
        {
            throw BuildFailure.FromOutput(Name, request.DockerfilePath, build.Combined);
        }

        if (request.Push)
        {
            var push = await CliProcess.RunAsync(Executable, PushArguments(request), request.Output, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!push.Succeeded)
            {
                throw BuildFailure.PushFailed(Name, request.ImageUri, push.Combined);
            }
        }
    }

    public async Task<bool> ExistsLocallyAsync(string imageUri, CancellationToken cancellationToken = default) =>
        (await CliProcess.RunAsync(Executable, ["image", "exists", imageUri], cancellationToken: cancellationToken).ConfigureAwait(false)).Succeeded;

    internal static IReadOnlyList<string> BuildArguments(ImageBuildRequest request) =>
        ["build", "--layers", "--file", request.DockerfilePath, "--tag", request.ImageUri, request.ContextDirectory];

    internal static IReadOnlyList<string> PushArguments(ImageBuildRequest request) =>
        request.InsecureRegistry ? ["push", "--tls-verify=false", request.ImageUri] : ["push", request.ImageUri];
}
