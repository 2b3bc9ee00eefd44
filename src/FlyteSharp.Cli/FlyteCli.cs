using System.CommandLine;

namespace FlyteSharp.Cli;

/// <summary>
/// The <c>flytesharp</c> command line. Tests call <see cref="RunAsync"/> in-process with their own writers.
/// Each command lives in its own file (<c>*Command.cs</c>) and is registered here.
/// </summary>
internal static class FlyteCli
{
    /// <summary>Exit code for bad input and failed work (an internal error exits with <see cref="InternalErrorReport.ExitCode"/>).</summary>
    public const int Failure = 1;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var console = new CliConsole(output, error);
        try
        {
            var root = new RootCommand("FlyteSharp: content-addressed images and per-run code bundles for .NET and Python tasks.");
            foreach (var command in Commands(console))
            {
                root.Subcommands.Add(command);
            }

            var parse = root.Parse(args);
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (FlyteSharpException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("cancelled");
            return 130;
        }
        catch (Exception ex)
        {
            // Whatever no command turned into a FlyteSharpException: a bug, reported without a stack trace.
            return InternalErrorReport.Report(ex, error);
        }
    }

    private static IEnumerable<Command> Commands(CliConsole console)
    {
        // Registered commands (one line per command file).
        yield return VersionCommand.Create(console);
        yield return ImagesCommand.Create(console);
        yield return DoctorCommand.Create(console);
        yield return BuildCommand.Create(console);
        yield return DeployCommand.Create(console);
        yield return RunCommand.Create(console);
        yield return RunsCommand.Create(console);
        yield return ServeCommand.Create(console);
        yield return BundleCommand.Create(console);
    }
}

/// <summary>The writers a command prints to, and whether output goes to a terminal (for progress display).</summary>
internal sealed record CliConsole(TextWriter Out, TextWriter Error)
{
    /// <summary>True when stdout is an interactive terminal (progress is shown only then).</summary>
    public bool IsInteractive => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;
}
