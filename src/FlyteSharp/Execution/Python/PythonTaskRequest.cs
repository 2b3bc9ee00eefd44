using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Python;

/// <summary>One Python action.</summary>
/// <param name="Task">The function to call.</param>
/// <param name="Environment">The task environment (its image, for containers).</param>
/// <param name="InputsJson">Inputs as one JSON object keyed by parameter name.</param>
/// <param name="ActionId">The action's id.</param>
/// <param name="Log">Receives each captured output line: (stream, line) with stream <c>stdout</c> or <c>stderr</c>.</param>
/// <param name="InputsFile">When the inputs are above the inline limit: a file holding them (then <paramref name="InputsJson"/> is empty).</param>
/// <param name="Placed">Told where the action runs once the executor knows: (image URI or null, process/container/pod).</param>
internal sealed record PythonTaskRequest(PythonTaskReference Task, TaskEnvironment Environment, string InputsJson, string ActionId, Action<string, string> Log,
    string? InputsFile = null, Action<string?, string>? Placed = null);
