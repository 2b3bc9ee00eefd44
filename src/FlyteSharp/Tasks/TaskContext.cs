namespace FlyteSharp.Tasks;

/// <summary>
/// What a running task body can know about itself: its run, its action and its cancellation
/// token (cancelled on timeout or when the run is cancelled). Read it through <see cref="Current"/>.
/// </summary>
public sealed class TaskContext
{
    private TaskContext(ITaskCallContext action) => Action = action;

    /// <summary>The context of the task body running on this async flow, or null outside a run.</summary>
    public static TaskContext? Current => TaskCalls.Current is { } action ? new TaskContext(action) : null;

    /// <summary>The run's name.</summary>
    public string RunName => Action.RunName;

    /// <summary>The current action's deterministic id.</summary>
    public string ActionId => Action.ActionId;

    /// <summary>The 1-based attempt number (greater than 1 on retries).</summary>
    public int Attempt => Action.Attempt;

    /// <summary>Cancelled when the attempt times out or the run is cancelled; pass it to anything that waits.</summary>
    public CancellationToken CancellationToken => Action.CancellationToken;

    internal ITaskCallContext Action { get; }
}
