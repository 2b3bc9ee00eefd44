namespace FlyteSharp.Runs;

/// <summary>Which runs to list: filters and a page (newest first).</summary>
/// <param name="Status">Only runs in this state.</param>
/// <param name="Task">Only runs whose root task name contains this text (case-insensitive).</param>
/// <param name="Since">Only runs started at or after this time.</param>
/// <param name="Until">Only runs started before this time.</param>
/// <param name="Limit">Page size.</param>
/// <param name="Before">The page cursor: runs listed after the run of this cursor (<see cref="RunPage.Next"/>).</param>
internal sealed record RunQuery(RunStatus? Status = null, string? Task = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null, int Limit = 50, string? Before = null);
