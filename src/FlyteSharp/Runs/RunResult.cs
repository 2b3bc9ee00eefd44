namespace FlyteSharp.Runs;

/// <summary>How a run ended: its status, and the error it failed with (the output is read through <see cref="IRunConnection.ReadOutputAsync"/>).</summary>
internal sealed record RunResult(RunStatus Status, Exception? Error);
