namespace FlyteSharp.Runs;

/// <summary>One page of a run's log: its lines, how many chunk rows they came from, and the last row's id (the next page starts after it).</summary>
internal sealed record LogPage(IReadOnlyList<LogLine> Lines, int Rows, long LastRowId);
