using System.CommandLine;
using FlyteSharp.Configuration;
using FlyteSharp.Runs;

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
            var store = RunStore.Open(parse.GetValue(database) ?? settings.EffectiveRunDatabase);
            var listenPort = parse.GetValue(port) ?? new Uri(settings.ConsoleUrl).Port;
            await using var server = new RunConsoleServer(store, listenPort, settings);
            server.Start();
            await console.Out.WriteLineAsync($"serving runs from {store.Path} at {server.BaseUrl}/runs (Ctrl+C to stop)");
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
}
