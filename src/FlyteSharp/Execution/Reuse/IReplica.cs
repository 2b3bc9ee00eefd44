namespace FlyteSharp.Execution.Reuse;

/// <summary>
/// One warm worker of a reusable environment (a container or a Pod) as its <see cref="ReplicaPool{TReplica}"/> sees it:
/// alive or not, and how to make it go away.
/// </summary>
internal interface IReplica
{
    /// <summary>True once the replica's process ended (it stopped, crashed or was removed from outside).</summary>
    bool HasExited { get; }

    /// <summary>
    /// Ends the replica: gracefully (its serve loop sees the end of its input) or, when <paramref name="kill"/> (a
    /// cancelled or broken call), at once; then starts removing what it leaves behind. The owner of the pool drains the
    /// removals before its run completes.
    /// </summary>
    Task RetireAsync(bool kill);
}
