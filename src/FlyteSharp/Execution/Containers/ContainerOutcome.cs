using FlyteSharp.Processes;

namespace FlyteSharp.Execution.Containers;

/// <summary>How an action's container ended: the runtime's result, whether the memory limit killed it, the reply file's text, and when.</summary>
/// <param name="Result">The runtime client's exit code and output.</param>
/// <param name="OutOfMemory">The container was killed by its memory limit.</param>
/// <param name="OutputsJson">The runner's <c>outputs.json</c>, or null when it wrote none.</param>
/// <param name="Launched">When <c>podman run</c> started.</param>
/// <param name="Exited">When it returned (or, with <see cref="ExitPending"/>, when the reply was announced).</param>
/// <param name="ResultRead">When the reply was read.</param>
internal sealed record ContainerOutcome(CliResult Result, bool OutOfMemory, string? OutputsJson, DateTimeOffset Launched, DateTimeOffset Exited, DateTimeOffset ResultRead)
{
    /// <summary>
    /// The result was read as soon as the runner announced a complete, successful reply: the container was still exiting
    /// (<see cref="Result"/> is then a placeholder with exit code 0 and <see cref="Exited"/> is when the reply was seen).
    /// </summary>
    public bool ExitPending { get; init; }
}
