namespace FlyteSharp.Worker;

/// <summary>
/// One task call the worker runs: a single call's command line, or one <c>call</c> request of its serve loop. Both go
/// through <see cref="WorkerSession.CallAsync"/>, so a reusable container runs a task exactly as a one-shot one does.
/// </summary>
internal sealed record WorkerCall
{
    /// <summary>The entry assembly's file name in the code folder, e.g. <c>App.dll</c>.</summary>
    public required string Assembly { get; init; }

    /// <summary>The task's name.</summary>
    public required string Task { get; init; }

    /// <summary>The inputs object as JSON text, when the call carries it inline.</summary>
    public string? InputsJson { get; init; }

    /// <summary>A JSON file holding the inputs object.</summary>
    public string? InputsFile { get; init; }

    /// <summary>An environment variable holding the inputs object (pods).</summary>
    public string? InputsVariable { get; init; }

    /// <summary>The run's name.</summary>
    public string Run { get; init; } = "";

    /// <summary>The action's id (the parent of the task's nested calls).</summary>
    public string Action { get; init; } = "";

    /// <summary>
    /// The driver's controller API for this call (<c>unix:/path</c>), when the worker was not started with one: a replica
    /// shared by several runs reaches each run's controller through the socket the driver links into its folder per call.
    /// </summary>
    public string? Controller { get; init; }

    /// <summary>The token for <see cref="Controller"/> (sent over the serve pipe, never written into the container).</summary>
    public string? ControllerToken { get; init; }

    /// <summary>The call described by a single call's command line.</summary>
    public static WorkerCall From(WorkerArguments arguments) => new()
    {
        Assembly = arguments.Assembly,
        Task = arguments.Task,
        InputsFile = arguments.InputsFile,
        InputsVariable = arguments.InputsVariable,
        Run = arguments.Run,
        Action = arguments.Action,
    };
}
