namespace FlyteSharp.Runs;

/// <summary>One captured line of an action's output.</summary>
/// <param name="ActionId">The action that wrote it.</param>
/// <param name="At">When it was captured.</param>
/// <param name="Stream"><c>stdout</c>, <c>stderr</c> or <c>flytesharp</c> (FlyteSharp's own notes, e.g. retries).</param>
/// <param name="Text">The line, without its newline.</param>
public sealed record LogLine(string ActionId, DateTimeOffset At, string Stream, string Text);
