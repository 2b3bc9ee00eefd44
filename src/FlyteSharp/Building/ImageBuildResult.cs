namespace FlyteSharp.Building;

/// <summary>The outcome for one distinct image (several environments may share it).</summary>
/// <param name="ImageUri">The image reference, e.g. <c>localhost:5000/flytesharp:3f2a…</c>.</param>
/// <param name="Environments">The task environments that use this image.</param>
/// <param name="Status">Built, skipped because the tag exists, or failed.</param>
/// <param name="Duration">Wall time spent on this image (registry check included).</param>
/// <param name="Error">Why it failed, when <see cref="Status"/> is <see cref="ImageBuildStatus.Failed"/>.</param>
/// <param name="LogFile">The builder's captured output, when a build ran.</param>
public sealed record ImageBuildResult(
    string ImageUri,
    IReadOnlyList<string> Environments,
    ImageBuildStatus Status,
    TimeSpan Duration,
    string? Error = null,
    string? LogFile = null)
{
    /// <summary>The exception behind <see cref="Error"/>, for callers that rethrow it.</summary>
    internal Exception? Exception { get; init; }
}
