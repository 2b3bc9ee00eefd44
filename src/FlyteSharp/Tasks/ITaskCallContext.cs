namespace FlyteSharp.Tasks;

/// <summary>
/// The running action as task definitions see it (the shape of Temporal's <c>IWorkflowContext</c>): the execution
/// layer implements it and makes it current while a task body runs; <see cref="TaskContext"/> and task calls read it.
/// </summary>
internal interface ITaskCallContext
{
    /// <summary>The run's name.</summary>
    string RunName { get; }

    /// <summary>The action's deterministic id.</summary>
    string ActionId { get; }

    /// <summary>The 1-based attempt number.</summary>
    int Attempt { get; }

    /// <summary>Cancelled on timeout or when the run is cancelled.</summary>
    CancellationToken CancellationToken { get; }

    /// <summary>The name of the action's task environment.</summary>
    string EnvironmentName { get; }

    /// <summary>The environment variables of the action's task environment.</summary>
    IReadOnlyDictionary<string, string> EnvironmentVariables { get; }

    /// <summary>The value of one of the environment's secrets (by key or <c>group/key</c>), or null when it names no such secret.</summary>
    string? FindSecret(string key);

    /// <summary>Calls <paramref name="task"/> as a child action of this one and returns its output.</summary>
    Task<object?> CallAsync(TaskDefinition task, object?[] inputs);
}
