namespace FlyteSharp.Building;

/// <summary>One report from an image build (see <see cref="IImageBuildProgress"/>).</summary>
/// <param name="ImageUri">The full image reference, e.g. <c>localhost:5000/flytesharp:3f2a…</c>.</param>
/// <param name="Registry">The registry host the image is pushed to and checked in; null for a local-only image.</param>
/// <param name="Repository">The repository within the registry, e.g. <c>flytesharp</c>.</param>
/// <param name="Tag">The content tag.</param>
/// <param name="Environments">The task environments that use the image.</param>
/// <param name="Stage">What happened.</param>
/// <param name="Elapsed">Time spent on this image so far (the registry check included).</param>
public sealed record ImageBuildUpdate(
    string ImageUri,
    string? Registry,
    string Repository,
    string Tag,
    IReadOnlyList<string> Environments,
    ImageBuildStage Stage,
    TimeSpan Elapsed)
{
    /// <summary>
    /// With <see cref="ImageBuildStage.Step"/>: the step as the builder names it, e.g. <c>STEP 3/7: RUN uv sync --locked</c> or
    /// <c>PUSH localhost:5000/flytesharp:3f2a…</c>. With <see cref="ImageBuildStage.Built"/>: how, when no builder ran (a
    /// deploy's COPY/ENV/WORKDIR layers assembled through the registry API); otherwise null.
    /// </summary>
    public string? Step { get; init; }

    /// <summary>With <see cref="ImageBuildStage.Failed"/>: why.</summary>
    public string? Error { get; init; }

    /// <summary>The builder's name (<c>podman</c>, <c>docker</c>): whose local store was checked for an image without a registry.</summary>
    public string? Builder { get; init; }
}
