using FlyteSharp.Runs;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// The Kubernetes part of <c>flytesharp runs gc</c>: deletes the controller token Secrets (<see cref="ControllerTokenSecret"/>)
/// and the reusable replica Pods (<see cref="PodReplica"/>) whose driver is gone — a process of this host that no longer runs, or, for another host's driver, its run (same name and owner) this store
/// records as no longer running. A Secret whose owner cannot be told to be gone is kept.
/// </summary>
internal static class KubernetesSweeper
{
    /// <summary>Deletes the token Secrets of gone drivers in <paramref name="pods"/>' namespace; returns <c>namespace/name (run …)</c> of each.</summary>
    /// <exception cref="FlyteSharpException">The API could not list Secrets.</exception>
    public static async Task<IReadOnlyList<string>> RemoveControllerSecretsAsync(KubernetesPods pods, RunStore store, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        foreach (var secret in await pods.ListSecretsAsync(ControllerTokenSecret.Selector, cancellationToken).ConfigureAwait(false))
        {
            if (ControllerTokenSecret.OwnerOf(secret) is not { } owner)
            {
                continue;
            }

            var gone = IsGone(owner, store);
            if (gone && await pods.DeleteSecretAsync(secret.Metadata.Name, cancellationToken).ConfigureAwait(false))
            {
                removed.Add($"{pods.Namespace}/{secret.Metadata.Name} (run {owner.Run})");
            }
        }

        return removed;
    }

    /// <summary>Deletes the replica Pods of gone drivers in <paramref name="pods"/>' namespace; returns <c>namespace/name (run …)</c> of each.</summary>
    /// <exception cref="FlyteSharpException">The API could not list Pods.</exception>
    public static async Task<IReadOnlyList<string>> RemoveReplicaPodsAsync(KubernetesPods pods, RunStore store, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        foreach (var pod in await pods.ListPodsAsync($"{ControllerTokenSecret.ComponentLabel}={ReusablePods.Component}", cancellationToken).ConfigureAwait(false))
        {
            if (ControllerTokenSecret.OwnerOf(pod.Metadata) is { } owner && IsGone(owner, store))
            {
                await pods.DeleteAsync(pod.Metadata.Name).ConfigureAwait(false);
                removed.Add($"{pods.Namespace}/{pod.Metadata.Name} (run {owner.Run})");
            }
        }

        return removed;
    }

    /// <summary>
    /// Whether an object's owner is gone: a process of this host that no longer runs, or, for another host's driver, its run
    /// (same name and owner) this store records as no longer running.
    /// </summary>
    private static bool IsGone((string Host, int Pid, long Start, string Run) owner, RunStore store) =>
        owner.Host == RunStore.Self.Host
            ? !RunStore.IsAlive(owner.Pid, owner.Start)
            : store.OwnerOf(owner.Run) is { Running: false } recorded
                // Run names are not unique across drivers' stores: only the run this very driver recorded counts.
                && recorded.Host == owner.Host && recorded.Pid == owner.Pid && recorded.Start == owner.Start;
}
