using FlyteSharp.Images;

namespace FlyteSharp.Building;

/// <summary>
/// One image to make sure exists: its reference parts, its Dockerfile, a way to write its build
/// context, and the environments that use it.
/// </summary>
internal sealed record ImageBuildTarget(
    string Uri,
    string? Registry,
    string Repository,
    string Tag,
    string Dockerfile,
    Func<string, CancellationToken, Task> WriteContextAsync,
    IReadOnlyList<string> Environments)
{
    /// <summary>The target for a resolved image used by <paramref name="environments"/>.</summary>
    public static ImageBuildTarget From(ResolvedImage image, params IReadOnlyList<string> environments) =>
        new(image.Uri, image.Registry, image.Repository, image.Tag, image.Dockerfile, image.WriteBuildContextAsync, environments);
}
