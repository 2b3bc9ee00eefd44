using System.Globalization;
using FlyteSharp.Runs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FlyteSharp.Cli.Progress;

/// <summary>
/// Shows a run while it runs. On a terminal: the action tree, redrawn in place by Spectre.Console (status, attempt,
/// duration, environment, where it runs). Anywhere else (CI, pipes, <c>--json</c>): plain lines, one per change, without
/// escape codes; a wide fan-out is summarized per task so the output stays proportional to the tree's shape, not its size.
/// </summary>
internal static class RunProgress
{
    /// <summary>How often the run store is read for changes.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Follows <paramref name="run"/> until it ends.</summary>
    /// <param name="run">The run.</param>
    /// <param name="interactive">Draw the live tree (a terminal) instead of plain lines.</param>
    /// <param name="output">Where plain lines go.</param>
    /// <param name="cancellationToken">Stops following (not the run).</param>
    public static async Task FollowAsync(Run run, bool interactive, TextWriter output, CancellationToken cancellationToken)
    {
        var completion = run.WaitAsync(cancellationToken);
        if (interactive)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            await console.Live(new Text("starting…")).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async context =>
            {
                while (true)
                {
                    var done = completion.IsCompleted;
                    context.UpdateTarget(Tree(run.Name, await run.GetActionsAsync(cancellationToken)));
                    context.Refresh();
                    if (done)
                    {
                        return;
                    }

                    await Task.WhenAny(completion, Task.Delay(PollInterval, cancellationToken));
                }
            });
            return;
        }

        var plain = new PlainProgress();
        while (true)
        {
            var done = completion.IsCompleted;
            foreach (var line in plain.Changes(await run.GetActionsAsync(cancellationToken)))
            {
                await output.WriteLineAsync(line);
            }

            if (done)
            {
                await output.FlushAsync(cancellationToken);
                return;
            }

            await Task.WhenAny(completion, Task.Delay(PollInterval, cancellationToken));
        }
    }

    /// <summary>The action tree as a Spectre.Console renderable (every recorded value escaped as markup).</summary>
    internal static IRenderable Tree(string runName, IReadOnlyList<ActionRecord> actions)
    {
        var tree = new Tree($"[bold]{Markup.Escape(runName)}[/]");
        var nodes = new Dictionary<string, IHasTreeNodes>(StringComparer.Ordinal);
        const int shown = 60;
        foreach (var a in actions.Take(shown))
        {
            IHasTreeNodes parent = a.ParentId is not null && nodes.TryGetValue(a.ParentId, out var p) ? p : tree;
            nodes[a.Id] = parent.AddNode(Line(a));
        }

        if (actions.Count > shown)
        {
            var running = actions.Count(a => a.Status == ActionStatus.Running);
            tree.AddNode($"[grey]… {actions.Count - shown} more actions ({running} running)[/]");
        }

        return tree;
    }

    private static string Line(ActionRecord a)
    {
        var (colour, symbol) = a.Status switch
        {
            ActionStatus.Running => ("yellow", "●"),
            ActionStatus.Succeeded => ("green", "✓"),
            ActionStatus.Cached => ("blue", "✓"),
            ActionStatus.Cancelled => ("grey", "■"),
            _ => ("red", "✗"),
        };
        var parts = new List<string>
        {
            $"[{colour}]{symbol} {Markup.Escape(RunPages.ApiName(a.Status))}[/]",
            $"[bold]{Markup.Escape(a.Task)}[/]",
            $"[grey]{Markup.Escape(a.Environment)}[/]",
        };
        if (a.Attempts > 1 || (a.Status == ActionStatus.Running && a.Attempts > 0))
        {
            parts.Add($"attempt {a.Attempts.ToString(CultureInfo.InvariantCulture)}");
        }

        if (a.Duration is { } duration)
        {
            parts.Add(Markup.Escape(RunPages.Duration(duration)));
        }

        if (a.Host is { } host)
        {
            parts.Add($"[grey]{Markup.Escape(host)}[/]");
        }

        if (a.Error is { } error)
        {
            parts.Add($"[red]{Markup.Escape(error.Type)}: {Markup.Escape(FirstLine(error.Message))}[/]");
        }

        return string.Join("  ", parts);
    }

    internal static string FirstLine(string text)
    {
        var line = text.Split('\n')[0].TrimEnd('\r');
        return line.Length > 160 ? line[..157] + "..." : line;
    }
}
