using System.Runtime.ExceptionServices;

namespace FlyteSharp.Runs;

/// <summary>
/// A run started by <see cref="Flyte.Run{TOut}(Tasks.FlyteTask{TOut}, Execution.RunOptions?)"/>: its name and console URL, its
/// status, and (from the run store) its action tree and logs.
/// </summary>
public class Run
{
    private readonly IRunConnection _info;

    internal Run(IRunConnection info) => _info = info;

    /// <summary>The run's unique name.</summary>
    public string Name => _info.Name;

    /// <summary>The run's page, served by <c>flytesharp serve</c>: <c>{console_url}/runs/{name}</c>.</summary>
    public string Url => _info.Url;

    /// <summary>The digest of the code bundle the run's Python tasks ran from; null for C#-only runs.</summary>
    public string? BundleDigest => _info.BundleDigest;

    /// <summary>The current status (final as soon as the outcome is recorded, while containers may still be removed).</summary>
    public RunStatus Status => Outcome?.Status ?? RunStatus.Running;

    /// <summary>The error the run failed with, once it failed; null otherwise.</summary>
    public Exception? Error => Outcome?.Error;

    private Task<RunResult> Recorded => _info.Recorded;

    // The recorded outcome, or the end when that is seen first (both say the same; the end implies the outcome is recorded).
    private RunResult? Outcome =>
        Recorded.IsCompletedSuccessfully ? Recorded.Result : _info.Completion.IsCompletedSuccessfully ? _info.Completion.Result : null;

    /// <summary>
    /// Waits for the run to end, clean-up included (its containers removed, its sandbox deleted), and returns its final
    /// status (it does not throw when the run failed).
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (the run goes on; see <see cref="Cancel"/>).</param>
    public async Task<RunStatus> WaitAsync(CancellationToken cancellationToken = default) =>
        (await _info.Completion.WaitAsync(cancellationToken).ConfigureAwait(false)).Status;

    /// <summary>Cancels the run: running actions are cancelled and the run is recorded as cancelled.</summary>
    public void Cancel() => _info.Cancel();

    /// <summary>The run's actions, root first, each followed by its children in call order.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<IReadOnlyList<ActionRecord>> GetActionsAsync(CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return _info.Store.GetActions(Name);
    }

    /// <summary>Captured output lines of the run, or of one action.</summary>
    /// <param name="actionId">An action id, or null for every action.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<IReadOnlyList<LogLine>> GetLogsAsync(string? actionId = null, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return _info.Store.GetLogs(Name, actionId);
    }

    /// <summary>The run as recorded in the run store.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<RunRecord> GetRecordAsync(CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        return _info.Store.GetRun(Name) ?? throw new InvalidOperationException($"run {Name} is missing from {_info.Store.Path}");
    }

    /// <summary>
    /// Waits for the run's outcome and returns its output, or throws the exception the root task failed with. It returns
    /// as soon as the outcome is recorded; clean-up (container removal) goes on until <see cref="WaitAsync"/> completes.
    /// </summary>
    private protected async Task<object?> GetOutputCoreAsync(CancellationToken cancellationToken)
    {
        var result = await Task.WhenAny(Recorded, _info.Completion).Unwrap().WaitAsync(cancellationToken).ConfigureAwait(false);
        if (result.Error is not null)
        {
            ExceptionDispatchInfo.Capture(result.Error).Throw();
        }

        return await _info.ReadOutputAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Run({Name}, {Status})";

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!_info.Completion.IsCompleted)
        {
            await _info.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _info.Completion.ConfigureAwait(false);
        }
    }
}

/// <summary>A run whose root task returns a <typeparamref name="TOut"/>.</summary>
/// <typeparam name="TOut">The root task's output type.</typeparam>
public sealed class Run<TOut> : Run
{
    internal Run(IRunConnection info)
        : base(info)
    {
    }

    /// <summary>
    /// Waits for the run's outcome and returns its typed output, or throws the exception the root task failed with. It
    /// returns as soon as the outcome is recorded; await <see cref="Run.WaitAsync"/> for the clean-up to finish too.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<TOut> GetOutputAsync(CancellationToken cancellationToken = default) =>
        (TOut)(await GetOutputCoreAsync(cancellationToken).ConfigureAwait(false))!;
}
