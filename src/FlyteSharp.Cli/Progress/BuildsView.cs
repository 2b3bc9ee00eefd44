using FlyteSharp.Building;
using Spectre.Console;

namespace FlyteSharp.Cli.Progress;

/// <summary>
/// Shows image builds while <c>build</c> and <c>deploy</c> make them. On a terminal: a row per image redrawn in place
/// (current step and running time, then built / found in registry / failed). Anywhere else: plain lines, one per stage
/// and step (<see cref="PlainBuildProgress"/>), on stdout — or on stderr with <c>--json</c>, so stdout holds only the JSON.
/// </summary>
internal static class BuildsView
{
    /// <summary>Runs <paramref name="work"/> with a progress sink shown as the console allows.</summary>
    /// <param name="console">The command's writers.</param>
    /// <param name="json">The command prints JSON on stdout.</param>
    /// <param name="work">The builds, reporting into the sink it is given.</param>
    /// <param name="cancellationToken">Stops redrawing.</param>
    public static async Task<T> RunAsync<T>(CliConsole console, bool json, Func<IImageBuildProgress, Task<T>> work, CancellationToken cancellationToken)
    {
        if (!console.IsInteractive || json)
        {
            return await work(new PlainBuildProgress(TextWriter.Synchronized(json ? console.Error : console.Out)));
        }

        var rows = new BuildRows(TimeProvider.System);
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        T result = default!;
        await ansi.Live(new Text("checking images…")).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async context =>
        {
            var running = work(rows);
            while (true)
            {
                var done = running.IsCompleted;
                if (rows.Any)
                {
                    context.UpdateTarget(rows.Renderable());
                }

                context.Refresh();
                if (done)
                {
                    result = await running;
                    return;
                }

                cancellationToken.ThrowIfCancellationRequested();
                await Task.WhenAny(running, Task.Delay(RunProgress.PollInterval, cancellationToken));
            }
        });
        return result;
    }
}
