namespace FlyteSharp.Execution.Kubernetes;

/// <summary>How an action's pod ended.</summary>
/// <param name="Pod">The pod's name.</param>
/// <param name="ExitCode">Its container's exit code, when it ran.</param>
/// <param name="Reason">The container's termination reason (e.g. <c>OOMKilled</c>).</param>
internal sealed record PodOutcome(string Pod, int? ExitCode, string? Reason);
