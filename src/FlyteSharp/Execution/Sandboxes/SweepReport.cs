namespace FlyteSharp.Execution.Sandboxes;

/// <summary>What one clean-up of abandoned runs did (<see cref="FlyteRuntime.CleanUpRunsAsync"/>, <c>flytesharp runs gc</c>).</summary>
/// <param name="AbandonedRuns">Runs this sweep found abandoned (owner gone) and marked so.</param>
/// <param name="RemovedSandboxes">Sandbox directories it deleted.</param>
/// <param name="RemovedContainers">Containers it stopped and removed, as <c>runtime:id (run)</c>.</param>
/// <param name="KeptSandboxes">Sandboxes left in place: their owner runs, or they are younger than the age limit.</param>
/// <param name="Complete">False when the time budget ran out before every sandbox was looked at.</param>
public sealed record SweepReport(
    IReadOnlyList<string> AbandonedRuns,
    IReadOnlyList<string> RemovedSandboxes,
    IReadOnlyList<string> RemovedContainers,
    int KeptSandboxes,
    bool Complete)
{
    /// <summary>Secret directories on tmpfs left by processes that are gone, which it deleted.</summary>
    public IReadOnlyList<string> RemovedSecretDirectories { get; init; } = [];

    /// <summary>Kubernetes Secrets holding the controller token of a gone driver's run, which it deleted (<c>namespace/name (run …)</c>).</summary>
    public IReadOnlyList<string> RemovedKubernetesSecrets { get; init; } = [];

    /// <summary>Reusable replica Pods of a gone driver's run, which it deleted (<c>namespace/name (run …)</c>).</summary>
    public IReadOnlyList<string> RemovedKubernetesPods { get; init; } = [];

    /// <summary>Why the cluster could not be swept (unreachable, no permission), or null.</summary>
    public string? KubernetesError { get; init; }
}
