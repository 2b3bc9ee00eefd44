using System.CommandLine;
using FlyteSharp.Configuration;

namespace FlyteSharp.Cli;

/// <summary><c>flytesharp serve [--port N]</c>: answers run URLs with a page per run and a list of runs, read from the run store.</summary>
internal static class ServeCommand
{
    public static Command Create(CliConsole console)
    {
        var config = new Option<string?>("--config") { Description = "Config file (default: FLYTESHARP_CONFIG, else flytesharp.toml from here upwards)." };
        var database = new Option<string?>("--db") { Description = "The run database (default: [runs] database, else ~/.flytesharp/runs.db)." };
        var port = new Option<int?>("--port") { Description = "Port to listen on (default: the port of [runs] console_url, 8177)." };
        var command = new Command("serve", "Serve the run console (the pages run URLs point at) on localhost.");
        command.Options.Add(config);
        command.Options.Add(database);
        command.Options.Add(port);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = FlyteConfig.Load(parse.GetValue(config));
            using var runtime = new FlyteRuntime(parse.GetValue(database) is { } db ? settings with { RunDatabase = db } : settings);
            var runs = runtime.Runs;
            var consoleUrl = ConsoleUrl(settings);
            var listenPort = parse.GetValue(port) ?? consoleUrl.Port;
            await using var server = runtime.StartConsole(listenPort);
            await console.Out.WriteLineAsync($"serving runs from {runs.DatabasePath} at {server.BaseUrl}/runs (Ctrl+C to stop)");
            if (Warning(consoleUrl, listenPort, settings) is { } warning)
            {
                await console.Error.WriteLineAsync(warning);
            }

            await console.Out.FlushAsync(cancellationToken);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        });
        return command;
    }

    /// <summary>The configured console URL, or a clear error naming where it came from.</summary>
    internal static Uri ConsoleUrl(FlyteConfig settings) =>
        Uri.TryCreate(settings.ConsoleUrl, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp
            ? url
            : throw new FlyteSharpException($"console_url '{settings.ConsoleUrl}' is not an http:// URL", settings.SourceFile,
                fix: "set [runs] console_url (or FLYTESHARP_CONSOLE_URL) to e.g. \"http://localhost:8177\"");

    /// <summary>
    /// Run URLs are made from console_url when a run starts; a console serving another port (or another host than this
    /// loopback one) does not answer them, so say so, with the setting that makes them match.
    /// </summary>
    internal static string? Warning(Uri consoleUrl, int listenPort, FlyteConfig settings)
    {
        var where = settings.SourceFile is null ? "the default" : settings.SourceFile;
        if (listenPort != consoleUrl.Port)
        {
            return $"warning: run URLs use console_url {consoleUrl.GetLeftPart(UriPartial.Authority)} ({where}), which is not this console (port {listenPort}); they will not answer here\n" +
                $"  fix: set [runs] console_url = \"http://localhost:{listenPort}\" (or FLYTESHARP_CONSOLE_URL) so runs started from now on print URLs to this console, or serve without --port";
        }

        if (!consoleUrl.IsLoopback)
        {
            return $"warning: console_url {consoleUrl.GetLeftPart(UriPartial.Authority)} ({where}) is not this machine's loopback, where the console listens; run URLs point elsewhere\n" +
                "  fix: put a proxy on that host in front of this console, or set console_url to http://localhost:<port>";
        }

        return null;
    }
}
