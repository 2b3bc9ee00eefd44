namespace FlyteSharp.Runs;

/// <summary>How a run ended: its status, the root task's output (value and JSON) or the error it failed with.</summary>
internal sealed record RunResult(RunStatus Status, object? Value, string? OutputJson, Exception? Error);
