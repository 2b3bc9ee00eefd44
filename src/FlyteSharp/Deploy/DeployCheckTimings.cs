namespace FlyteSharp.Deploy;

/// <summary>Where a deploy's task check spent its time (for bench/deploy-code-layer.sh).</summary>
/// <param name="Prepare">Finding the local base, writing the code's tar and its interface digest (beside making the image), before the check's container starts or the stored answers are read.</param>
/// <param name="StagedDescribe">The check's container on the staged image, from its launch until its answer (zero when none ran).</param>
/// <param name="Waited">How long the deploy waited for the check once its images were made (the part not overlapped).</param>
/// <param name="Teardown">Stopping what still ran and removing the check's containers, after the version was recorded.</param>
/// <param name="Staged">Environments whose staged answers counted (the others were described in the deployed image).</param>
internal sealed record DeployCheckTimings(TimeSpan Prepare, TimeSpan StagedDescribe, TimeSpan Waited, TimeSpan Teardown, int Staged)
{
    /// <summary>The environments (by name) whose Python tasks the check covered.</summary>
    public IReadOnlyList<string> Environments { get; init; } = [];

    /// <summary>
    /// Environments (by name) whose staged answers came from the check cache: no container ran for them (the answers still
    /// count only if the image is confirmed to be made on the base, as <see cref="Staged"/> says).
    /// </summary>
    public IReadOnlyList<string> Avoided { get; init; } = [];
}
