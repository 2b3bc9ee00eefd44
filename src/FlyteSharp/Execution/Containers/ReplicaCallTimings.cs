namespace FlyteSharp.Execution.Containers;

/// <summary>Where the time of one call on a reusable container went (for the reuse benchmark in bench/).</summary>
/// <param name="Environment">The task environment.</param>
/// <param name="Replica">The container that ran it.</param>
/// <param name="Started">The replica was started for this call (a cold start).</param>
/// <param name="Acquire">Waiting for an idle replica, or starting one.</param>
/// <param name="Reload">Restarting the replica's interpreter for another bundle digest (zero when it already served this one).</param>
/// <param name="Call">The serve request's round trip: inputs in, task run, output back.</param>
/// <param name="Total">The whole call as the executor saw it.</param>
internal sealed record ReplicaCallTimings(string Environment, string Replica, bool Started, TimeSpan Acquire, TimeSpan Reload, TimeSpan Call, TimeSpan Total);
