using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>One C# action to run in a container or pod.</summary>
/// <param name="Task">The task (its body's assembly is what the .NET bundle carries).</param>
/// <param name="InputsJson">Inputs as one JSON object keyed by parameter name (empty when <paramref name="InputsFile"/> holds them).</param>
/// <param name="InputsFile">A file holding inputs above the inline limit, or null.</param>
/// <param name="ActionId">The action's id.</param>
/// <param name="Log">Receives each output line: (stream, line).</param>
/// <param name="Placed">Told where the action runs: (image URI, container or pod).</param>
internal sealed record DotnetTaskRequest(TaskDefinition Task, string InputsJson, string? InputsFile, string ActionId, Action<string, string> Log, Action<string?, string> Placed)
{
    /// <summary>
    /// Extra worker arguments and read-only mounts (host path, container path) for nested calls through the driver's
    /// controller API, made when the action's container starts; null when the run offers none.
    /// </summary>
    public Func<DotnetControllerAccess?>? Controller { get; init; }

    /// <summary>
    /// A caller up the action tree runs in the same environment: with a <see cref="ReusePolicy"/> it holds one of its
    /// replicas while it waits for this action, so this action must not wait for a replica (all may be held by its callers).
    /// </summary>
    public bool CalledFromSameEnvironment { get; init; }
}
