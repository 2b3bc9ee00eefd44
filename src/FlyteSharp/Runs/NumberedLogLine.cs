namespace FlyteSharp.Runs;

/// <summary>A log line with its position in the run's log (for following a live run: ask for lines after the last seen).</summary>
/// <param name="Number">Increases with every line written to the store.</param>
/// <param name="Line">The line.</param>
public sealed record NumberedLogLine(long Number, LogLine Line);
