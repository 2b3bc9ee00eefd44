namespace FlyteSharp.Building;

/// <summary>How far an image build has come (see <see cref="ImageBuildUpdate"/>).</summary>
public enum ImageBuildStage
{
    /// <summary>The tag is missing (or the build is forced): the build starts.</summary>
    Building,

    /// <summary>The builder started a step: a Dockerfile instruction (<see cref="ImageBuildUpdate.Step"/>) or the push.</summary>
    Step,

    /// <summary>The image was built and, when it names a registry, pushed and found there.</summary>
    Built,

    /// <summary>The registry (or, for an image without one, the builder's local store) already has the tag: nothing was built.</summary>
    SkippedExisting,

    /// <summary>The build or the push failed (<see cref="ImageBuildUpdate.Error"/>).</summary>
    Failed,
}
