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

    /// <summary>The environment variables of the task's environment (<see cref="TaskEnvironment.EnvVars"/>).</summary>
    /// <remarks>
    /// C# task bodies run inside the driver's process, whose environment all actions share, so they read their
    /// environment's variables here rather than with <see cref="Environment.GetEnvironmentVariable(string)"/>.
    /// </remarks>
    public IReadOnlyDictionary<string, string> EnvVars => Action.EnvironmentVariables;

    /// <summary>
    /// The value of one of the environment's secrets (by key, or <c>group/key</c>). The value was looked up when the
    /// action started; a secret the environment does not name throws.
    /// </summary>
    /// <param name="key">The secret's <see cref="Secret.Key"/> or <see cref="Secret.DisplayName"/>.</param>
    public string GetSecret(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Action.FindSecret(key) ?? throw new FlyteSharpException($"task environment '{Action.EnvironmentName}' has no secret '{key}'",
            fix: $"add new Secret(\"{key}\") to its secrets");
    }

    internal ITaskCallContext Action { get; }
}
