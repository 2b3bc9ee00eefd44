namespace FlyteSharp.Building;

/// <summary>What happened to one image in a build.</summary>
public enum ImageBuildStatus
{
    /// <summary>The image was built (and pushed, when it names a registry).</summary>
    Built,

    /// <summary>The tag already existed (in the registry, or locally for registry-less images); nothing was built.</summary>
    SkippedExisting,

    /// <summary>The build, the push, or the registry check failed; see <see cref="ImageBuildResult.Error"/>.</summary>
    Failed,
}
