namespace FlyteSharp.Execution;

/// <summary>An attempt of a task ran longer than its <see cref="Tasks.TaskOptions.Timeout"/> and was cancelled.</summary>
public sealed class TaskTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="task">The task's name.</param>
    /// <param name="timeout">The limit that passed.</param>
    /// <param name="attempt">The 1-based attempt that timed out.</param>
    public TaskTimeoutException(string task, TimeSpan timeout, int attempt)
        : base($"task '{task}' timed out after {timeout} (attempt {attempt}) and was cancelled")
    {
        Task = task;
        Timeout = timeout;
        Attempt = attempt;
    }

    /// <summary>The task's name.</summary>
    public string Task { get; }

    /// <summary>The limit that passed.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The 1-based attempt that timed out.</summary>
    public int Attempt { get; }
}
