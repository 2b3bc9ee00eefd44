namespace FlyteSharp.Runs;

/// <summary>One page of a run listing.</summary>
/// <param name="Runs">The runs, newest first.</param>
/// <param name="Next">The cursor of the next (older) page, or null when this is the last.</param>
internal sealed record RunPage(IReadOnlyList<RunRecord> Runs, string? Next);
