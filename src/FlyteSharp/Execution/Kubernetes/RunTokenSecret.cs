using FlyteSharp.Execution.Controller;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// The one controller token Secret of a run (<see cref="ControllerTokenSecret"/>): created when the first Pod that needs
/// it is about to be created, shared by every later Pod, deleted when the run's executor is disposed (run end). A failed
/// creation is not remembered: the next Pod tries again.
/// </summary>
internal sealed class RunTokenSecret(KubernetesPods pods, string run) : IAsyncDisposable
{
    private readonly object _gate = new();
    private Task<string>? _created;

    /// <summary>The Secret's name, creating it on first use.</summary>
    /// <exception cref="FlyteSharpException">The API refused the Secret.</exception>
    public Task<string> EnsureAsync(ControllerToken token, CancellationToken cancellationToken)
    {
        Task<string> created;
        lock (_gate)
        {
            if (_created is null || _created.IsFaulted || _created.IsCanceled)
            {
                // Not bound to one action's token: another action may be waiting on the same creation.
                _created = CreateAsync(token);
            }

            created = _created;
        }

        return created.WaitAsync(cancellationToken);
    }

    /// <summary>Deletes the Secret if it was created (bounded; a Secret left behind is found by <c>flytesharp runs gc</c>).</summary>
    public async ValueTask DisposeAsync()
    {
        Task<string>? created;
        lock (_gate)
        {
            created = _created;
        }

        if (created is null)
        {
            return;
        }

        try
        {
            var name = await created.ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            if (!await pods.DeleteSecretAsync(name, timeout.Token).ConfigureAwait(false))
            {
                await Console.Error.WriteLineAsync($"warning: Kubernetes Secret {name} (run {run}'s controller token) in namespace '{pods.Namespace}' could not be deleted\n" +
                    $"  fix: kubectl delete secret {name} -n {pods.Namespace}, or run `flytesharp runs gc` later").ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is FlyteSharpException or OperationCanceledException)
        {
            // Never created (its error was the action's), or deleting it timed out: `runs gc` finds it by its labels.
        }
    }

    private async Task<string> CreateAsync(ControllerToken token)
    {
        var name = ControllerTokenSecret.NameFor(run);
        await pods.CreateSecretAsync(ControllerTokenSecret.Build(name, pods.Namespace, run, token), CancellationToken.None).ConfigureAwait(false);
        return name;
    }
}
