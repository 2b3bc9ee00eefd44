using System.Globalization;
using FlyteSharp.Runs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FlyteSharp.Cli.Progress;

/// <summary>
/// Shows a run while it runs. On a terminal: the image builds it makes and the action tree, redrawn in place by
/// Spectre.Console (status, attempt, duration, environment, where it runs). Anywhere else (CI, pipes, <c>--json</c>): plain lines, one per change, without
/// escape codes; a wide fan-out is summarized per task so the output stays proportional to the tree's shape, not its size.
/// </summary>
internal static class RunProgress
{
    /// <summary>How often the run store is read for changes.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// On a terminal: starts the run with <paramref name="start"/> and draws, in place until it ends, the image builds
    /// (<paramref name="builds"/>, which the run reports into; the pre-run check may build before the run exists), the
    /// run's name, URL and bundle once it has them, and its action tree.
    /// </summary>
    /// <returns>The run, ended (or the following cancelled).</returns>
    /// <exception cref="Exception">Whatever <paramref name="start"/> throws, after the builds' last state is drawn.</exception>
    public static async Task<Run> LiveAsync(Func<Task<Run>> start, BuildRows builds, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        Run? started = null;
        await console.Live(new Text("starting…")).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async context =>
        {
            var starting = start();
            while (true)
            {
                var done = starting.IsCompleted;
                context.UpdateTarget(builds.Any ? builds.Renderable() : new Text("starting…"));
                context.Refresh();
                if (done)
                {
                    break;
                }

                cancellationToken.ThrowIfCancellationRequested();
                await Task.WhenAny(starting, Task.Delay(PollInterval, cancellationToken));
            }

            var run = started = await starting;
            var completion = run.WaitAsync(cancellationToken);
            while (true)
            {
                var done = completion.IsCompleted;
                context.UpdateTarget(View(run, builds, await run.GetActionsAsync(cancellationToken)));
                context.Refresh();
                if (done)
                {
                    return;
                }

                await Task.WhenAny(completion, Task.Delay(PollInterval, cancellationToken));
            }
        });
        return started!;
    }

    /// <summary>Not on a terminal: follows <paramref name="run"/> until it ends, one plain line per change (no escape codes).</summary>
    /// <param name="run">The run.</param>
    /// <param name="output">Where lines go.</param>
    /// <param name="cancellationToken">Stops following (not the run).</param>
    public static async Task FollowAsync(Run run, TextWriter output, CancellationToken cancellationToken)
    {
        var completion = run.WaitAsync(cancellationToken);
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

    /// <summary>The live view of a started run: its name, URL and bundle, the image builds (if any), the action tree.</summary>
    internal static IRenderable View(Run run, BuildRows builds, IReadOnlyList<ActionRecord> actions)
    {
        var parts = new List<IRenderable>
        {
            new Markup($"run:    {Markup.Escape(run.Name)}"),
            new Markup($"url:    {Markup.Escape(run.Url)}"),
        };
        if (run.BundleDigest is { } bundle)
        {
            parts.Add(new Markup($"bundle: {Markup.Escape(bundle)}"));
        }

        if (builds.Any)
        {
            parts.Add(builds.Renderable());
        }

        parts.Add(Tree(run.Name, actions));
        return new Rows(parts);
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
            $"[{colour}]{symbol} {Markup.Escape(RunText.ApiName(a.Status))}[/]",
            $"[bold]{Markup.Escape(a.Task)}[/]",
            $"[grey]{Markup.Escape(a.Environment)}[/]",
        };
        if (a.Attempts > 1 || (a.Status == ActionStatus.Running && a.Attempts > 0))
        {
            parts.Add($"attempt {a.Attempts.ToString(CultureInfo.InvariantCulture)}");
        }

        if (a.Duration is { } duration)
        {
            parts.Add(Markup.Escape(RunText.Duration(duration)));
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
