using System.Collections.Concurrent;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// The replica pools of <see cref="ReuseScope.Global"/> environments: shared by every run of this process whose
/// environment, image and container settings give the same key. They outlive runs; a replica leaves after its idle TTL,
/// and all are removed when the process exits (bounded), so none outlives the driver. A driver that is killed leaves
/// them to <c>flytesharp runs gc</c>, which finds them by their owner labels.
/// </summary>
internal static class ReplicaPools
{
    private static readonly ConcurrentDictionary<string, ReplicaPool<ContainerReplica>> Pools = new(StringComparer.Ordinal);
    private static int _exitHooked;

    /// <summary>Where the shared replicas' container removals go (drained when the process exits).</summary>
    public static ContainerTeardowns Teardowns { get; } = new();

    /// <summary>The shared pool for <paramref name="key"/>, made on first use.</summary>
    public static ReplicaPool<ContainerReplica> Get(string key, ReusePolicy policy, TimeProvider time)
    {
        if (Interlocked.Exchange(ref _exitHooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeAllAsync().Wait(ContainerTeardowns.Limit);
        }

        return Pools.GetOrAdd(key, _ => new ReplicaPool<ContainerReplica>(policy, time));
    }

    /// <summary>Replicas alive in all shared pools.</summary>
    public static int Count => Pools.Values.Sum(p => p.Count);

    /// <summary>Removes every shared replica and waits until the containers are gone.</summary>
    /// <returns>What could not be removed, one line per container.</returns>
    public static async Task<IReadOnlyList<string>> DisposeAllAsync()
    {
        foreach (var key in Pools.Keys.ToArray())
        {
            if (Pools.TryRemove(key, out var pool))
            {
                await pool.DisposeAsync().ConfigureAwait(false);
            }
        }

        return await Teardowns.DrainAsync().ConfigureAwait(false);
    }
}
