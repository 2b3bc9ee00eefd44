using System.Globalization;
using FlyteSharp.Runs;

namespace FlyteSharp.Cli.Progress;

/// <summary>
/// Turns successive snapshots of a run's actions into plain text lines (no escape codes): an action starting (with where
/// it runs, once known), retrying, and ending. More than <see cref="SummarizeAbove"/> changes of one kind and task in
/// one snapshot become one line (<c>started 200 × square</c>), so a fan-out of thousands prints a few lines.
/// </summary>
internal sealed class PlainProgress
{
    /// <summary>Changes of one kind and task per snapshot printed one by one; more are counted in one line.</summary>
    public const int SummarizeAbove = 5;

    private readonly Dictionary<string, Seen> _seen = new(StringComparer.Ordinal);

    /// <summary>The lines describing what changed since the previous snapshot.</summary>
    public IReadOnlyList<string> Changes(IReadOnlyList<ActionRecord> actions)
    {
        var events = new List<(string Kind, string Task, string Line)>();
        foreach (var a in actions)
        {
            _seen.TryGetValue(a.Id, out var before);
            var isNew = before is null;
            var now = new Seen(a.Status, a.Attempts, a.Host);
            _seen[a.Id] = now;
            if (isNew)
            {
                events.Add(("started", a.Task, $"started   {a.Task} [{a.Id}] ({a.Environment}{(a.Host is null ? "" : ", " + a.Host)})"));
            }
            else if (before!.Host is null && a.Host is not null && a.Status == ActionStatus.Running)
            {
                events.Add(("running", a.Task, $"running   {a.Task} [{a.Id}] on {a.Host}"));
            }

            if (!isNew && a.Status == ActionStatus.Running && a.Attempts > before!.Attempts && a.Attempts > 1)
            {
                events.Add(("retrying", a.Task, $"retrying  {a.Task} [{a.Id}] attempt {a.Attempts.ToString(CultureInfo.InvariantCulture)}"));
            }

            if (a.Status != ActionStatus.Running && (isNew || before!.Status == ActionStatus.Running))
            {
                var status = RunText.ApiName(a.Status);
                var detail = a.Error is { } e ? $": {e.Type}: {RunProgress.FirstLine(e.Message)}" : "";
                var attempts = a.Attempts > 1 ? $", {a.Attempts.ToString(CultureInfo.InvariantCulture)} attempts" : "";
                events.Add((status, a.Task, $"{status,-9} {a.Task} [{a.Id}] in {RunText.Duration(a.Duration)}{attempts}{detail}"));
            }
        }

        var lines = new List<string>();
        foreach (var group in events.GroupBy(e => (e.Kind, e.Task)))
        {
            var items = group.ToList();
            if (items.Count > SummarizeAbove)
            {
                lines.Add($"{group.Key.Kind,-9} {items.Count.ToString(CultureInfo.InvariantCulture)} × {group.Key.Task}");
            }
            else
            {
                lines.AddRange(items.Select(i => i.Line));
            }
        }

        return lines.Select(Printable).ToList();
    }

    /// <summary>Recorded text (task names, errors) with control characters shown as '?', so a line can never carry an escape sequence.</summary>
    internal static string Printable(string line) =>
        line.Any(char.IsControl) ? new string(line.Select(c => char.IsControl(c) ? '?' : c).ToArray()) : line;

    /// <summary>
    /// Recorded text of several lines (a task's error message, a traceback) as printed: control characters other than
    /// line breaks and tabs shown as '?', so a task cannot send escape sequences to the terminal through its error.
    /// </summary>
    internal static string PrintableLines(string text) =>
        text.Any(IsHidden) ? new string(text.Select(c => IsHidden(c) ? '?' : c).ToArray()) : text;

    private static bool IsHidden(char c) => char.IsControl(c) && c is not '\n' and not '\t';

    private sealed record Seen(ActionStatus Status, int Attempts, string? Host);
}
