using FlyteSharp.Runs;

namespace FlyteSharp.Execution;

/// <summary>How a run ended: the root's outcome when it succeeded.</summary>
internal sealed record RunEnd(RunStatus Status, ActionOutcome? Outcome, Exception? Error);
