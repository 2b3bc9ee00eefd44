using System.CommandLine;
using FlyteSharp.Cli.Progress;
using FlyteSharp.Configuration;
using FlyteSharp.Runs;
using FlyteSharp.Storage;

namespace FlyteSharp.Cli;

/// <summary><c>flytesharp runs list|show|logs [--follow]|output|abort|gc</c>: reads recorded runs from the run store, asks a running one to stop, and cleans up after abandoned ones.</summary>
internal static class RunsCommand
{
    public static Command Create(CliConsole console)
    {
        var config = new Option<string?>("--config") { Description = "Config file (default: FLYTESHARP_CONFIG, else flytesharp.toml from here upwards).", Recursive = true };
        var database = new Option<string?>("--db") { Description = "The run database (default: [runs] database, else ~/.flytesharp/runs.db).", Recursive = true };
        var command = new Command("runs", "List and inspect recorded runs.");
        command.Options.Add(config);
        command.Options.Add(database);

        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var limit = new Option<int>("--limit") { Description = "How many runs to list (newest first).", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "List runs, newest first.");
        list.Options.Add(json);
        list.Options.Add(limit);
        list.SetAction(async (parse, _) =>
        {
            using var runtime = Runtime(parse, config, database);
            var path = Path.GetFullPath(runtime.Config.EffectiveRunDatabase);
            if (!Exists(path))
            {
                await console.Out.WriteLineAsync(parse.GetValue(json) ? "[]" : $"no runs recorded (there is no run database at {path})");
                return 0;
            }

            var runs = runtime.Runs.List(parse.GetValue(limit));
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(CliJson.Serialize(runs));
                return 0;
            }

            if (runs.Count == 0)
            {
                await console.Out.WriteLineAsync("no runs recorded");
                return 0;
            }

            var width = Math.Max(4, runs.Max(r => r.Name.Length));
            await console.Out.WriteLineAsync($"{"RUN".PadRight(width)}  {"STATUS",-10}  {"STARTED",-23}  {"DURATION",-9}  TASK");
            foreach (var r in runs)
            {
                await console.Out.WriteLineAsync($"{r.Name.PadRight(width)}  {RunText.Status(r.Status),-10}  {RunText.Time(r.CreatedAt),-23}  {RunText.Duration(r.Duration),-9}  {r.Task}");
            }

            return 0;
        });

        var runName = new Argument<string>("name") { Description = "The run's name." };
        var showJson = new Option<bool>("--json") { Description = "Print the run and its actions as JSON." };
        var show = new Command("show", "Show a run and its action tree.");
        show.Arguments.Add(runName);
        show.Options.Add(showJson);
        show.SetAction(async (parse, _) =>
        {
            using var runtime = Runtime(parse, config, database);
            var history = OpenExisting(runtime);
            var run = Get(history, parse.GetValue(runName)!, previewOnly: true);
            var actions = history.Actions(run.Name, previewOnly: true);
            if (parse.GetValue(showJson))
            {
                // Previews, like the console's API: whole outputs come from `runs output`.
                await console.Out.WriteLineAsync(CliJson.Serialize(new { run = RunApi.Run(run), actions = actions.Select(a => RunApi.Action(run.Name, a)) }));
                return 0;
            }

            await console.Out.WriteLineAsync($"run      {run.Name}");
            await console.Out.WriteLineAsync($"status   {RunText.Status(run.Status)}");
            await console.Out.WriteLineAsync($"task     {run.Task} ({run.Environment})");
            await console.Out.WriteLineAsync($"started  {RunText.Time(run.CreatedAt)}  duration {RunText.Duration(run.Duration)}");
            await console.Out.WriteLineAsync($"url      {run.Url}");
            if (run.BundleDigest is not null)
            {
                await console.Out.WriteLineAsync($"bundle   {run.BundleDigest}");
            }

            await console.Out.WriteLineAsync($"inputs   {RunText.Preview(run.InputsJson, run.InputsBlob, null, out long? _)}");
            if (run.OutputsJson is not null || run.OutputsBlob is not null)
            {
                var preview = RunText.Preview(run.OutputsJson, run.OutputsBlob, run.OutputsLength, out var size);
                await console.Out.WriteLineAsync($"outputs  {preview}");
                if (size is { } whole)
                {
                    await console.Out.WriteLineAsync($"         (a preview of {RunText.Size(whole)}; the whole output: flytesharp runs output {run.Name} [-o FILE])");
                }
            }

            if (run.Error is not null)
            {
                await console.Out.WriteLineAsync(PlainProgress.PrintableLines($"error    {run.Error.Type}: {run.Error.Message}"));
            }

            await console.Out.WriteLineAsync($"actions ({actions.Count}):");
            foreach (var line in Tree(actions))
            {
                await console.Out.WriteLineAsync(line);
            }

            return 0;
        });

        var actionId = new Argument<string?>("action") { Description = "Only this action's lines.", Arity = ArgumentArity.ZeroOrOne };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines while the run runs; end when it ends." };
        var logs = new Command("logs", "Print a run's captured output (stdout, stderr, retries).");
        var logName = new Argument<string>("name") { Description = "The run's name." };
        logs.Arguments.Add(logName);
        logs.Arguments.Add(actionId);
        logs.Options.Add(follow);
        logs.SetAction(async (parse, cancellationToken) =>
        {
            using var runtime = Runtime(parse, config, database);
            var history = OpenExisting(runtime);
            var run = Get(history, parse.GetValue(logName)!);
            var action = parse.GetValue(actionId);
            var actions = history.Actions(run.Name, previewOnly: true);
            if (action is not null && actions.All(a => a.Id != action))
            {
                throw new FlyteSharpException($"run '{run.Name}' has no action '{action}'", history.DatabasePath,
                    fix: $"use an id from `flytesharp runs show {run.Name}`");
            }

            var names = actions.ToDictionary(a => a.Id, a => a.Task, StringComparer.Ordinal);
            long after = 0;
            while (true)
            {
                // Read the state before the lines: lines written before the run ended are then all in this read or the next.
                var ended = history.Find(run.Name, previewOnly: true)!.Status != RunStatus.Running;
                IReadOnlyList<NumberedLogLine> batch;
                do
                {
                    batch = history.LogsAfter(run.Name, action, after, RunHistory.LogRowsPerPage);
                    foreach (var numbered in batch)
                    {
                        var line = numbered.Line;
                        if (!names.ContainsKey(line.ActionId))
                        {
                            names = history.Actions(run.Name, previewOnly: true).ToDictionary(a => a.Id, a => a.Task, StringComparer.Ordinal);
                        }

                        var prefix = action is null ? $"[{names.GetValueOrDefault(line.ActionId, line.ActionId)} {line.ActionId}] " : "";
                        await console.Out.WriteLineAsync($"{prefix}{(line.Stream == "stdout" ? "" : line.Stream + ": ")}{line.Text}");
                        after = numbered.Number;
                    }
                }
                while (batch.Select(l => l.Number).Distinct().Count() == RunHistory.LogRowsPerPage);

                if (!parse.GetValue(follow) || ended)
                {
                    if (parse.GetValue(follow))
                    {
                        await console.Error.WriteLineAsync($"run {run.Name} {RunText.Status(history.Find(run.Name, previewOnly: true)!.Status)}");
                    }

                    return 0;
                }

                await console.Out.FlushAsync(cancellationToken);
                await Task.Delay(FollowInterval, cancellationToken);
            }
        });

        var abortName = new Argument<string>("name") { Description = "The run to cancel." };
        var noWait = new Option<bool>("--no-wait") { Description = "Ask for the cancellation and return without waiting for the run to stop." };
        var abort = new Command("abort", "Cancel a running run from any terminal: its process stops its containers and pods and records it cancelled.");
        abort.Arguments.Add(abortName);
        abort.Options.Add(noWait);
        abort.SetAction(async (parse, cancellationToken) =>
        {
            using var runtime = Runtime(parse, config, database);
            var history = OpenExisting(runtime);
            var run = Get(history, parse.GetValue(abortName)!);
            if (run.Status != RunStatus.Running || !history.RequestCancel(run.Name))
            {
                throw new FlyteSharpException($"run '{run.Name}' is not running (it is {RunText.Status(history.Find(run.Name)!.Status)})", history.DatabasePath,
                    fix: "only a running run can be aborted; `flytesharp runs list` shows which are");
            }

            await console.Out.WriteLineAsync($"asked run {run.Name} to stop");
            if (parse.GetValue(noWait))
            {
                return 0;
            }

            var deadline = TimeProvider.System.GetUtcNow() + AbortWait;
            while (history.Find(run.Name)!.Status == RunStatus.Running)
            {
                if (TimeProvider.System.GetUtcNow() > deadline)
                {
                    throw new FlyteSharpException($"run '{run.Name}' was asked to stop but its process has not stopped it within {AbortWait.TotalSeconds:0} s", history.DatabasePath,
                        fix: "the process may be busy stopping containers; check again with `flytesharp runs show`, or stop the process (the run is then marked abandoned)");
                }

                await Task.Delay(FollowInterval, cancellationToken);
            }

            var final = history.Find(run.Name)!;
            await console.Out.WriteLineAsync($"run {run.Name} {RunText.Status(final.Status)}");
            return final.Status == RunStatus.Cancelled ? 0 : FlyteCli.Failure;
        });

        var olderThan = new Option<string?>("--older-than")
        {
            Description = "Remove sandboxes of gone runs older than this age: 90s, 30m, 6h, 7d or 0 (default: [runs] sandbox_max_age, 1h).",
        };
        var gcJson = new Option<bool>("--json") { Description = "Print what was removed as JSON." };
        var gc = new Command("gc", "Clean up after runs whose process is gone: mark them abandoned, remove their containers, old sandboxes and (kubernetes) controller token Secrets.");
        gc.Options.Add(olderThan);
        gc.Options.Add(gcJson);
        gc.SetAction(async (parse, cancellationToken) =>
        {
            using var runtime = Runtime(parse, config, database);
            var maxAge = parse.GetValue(olderThan) is { } age ? FlyteConfig.ParseAge(age, "--older-than", null) : runtime.Config.SandboxMaxAge;
            var report = await runtime.CleanUpRunsAsync(maxAge, cancellationToken);
            if (parse.GetValue(gcJson))
            {
                await console.Out.WriteLineAsync(CliJson.Serialize(report));
                return 0;
            }

            foreach (var run in report.AbandonedRuns)
            {
                await console.Out.WriteLineAsync($"abandoned  {run} (its process is gone)");
            }

            foreach (var container in report.RemovedContainers)
            {
                await console.Out.WriteLineAsync($"removed    container {container}");
            }

            foreach (var sandbox in report.RemovedSandboxes)
            {
                await console.Out.WriteLineAsync($"removed    sandbox {sandbox}");
            }

            foreach (var secrets in report.RemovedSecretDirectories)
            {
                await console.Out.WriteLineAsync($"removed    secret files {secrets}");
            }

            foreach (var pod in report.RemovedKubernetesPods)
            {
                await console.Out.WriteLineAsync($"removed    Kubernetes replica Pod {pod}");
            }

            foreach (var secret in report.RemovedKubernetesSecrets)
            {
                await console.Out.WriteLineAsync($"removed    Kubernetes Secret {secret}");
            }

            if (report.KubernetesError is { } kubernetesError)
            {
                await console.Error.WriteLineAsync($"warning: the cluster's replica Pods and controller token Secrets were not swept: {kubernetesError}");
            }

            await console.Out.WriteLineAsync(
                $"kept       {report.KeptSandboxes} sandbox(es): their run is still going, or it ended less than {RunText.Duration(maxAge)} ago");
            return 0;
        });

        var outputName = new Argument<string>("name") { Description = "The run's name." };
        var outputAction = new Argument<string?>("action") { Description = "An action id (default: the run's root output).", Arity = ArgumentArity.ZeroOrOne };
        var outputFile = new Option<string?>("--output", "-o") { Description = "Write to this file (default: standard output)." };
        var output = new Command("output", "Write a run's (or one action's) whole output JSON, however large (streamed from its blob).");
        output.Arguments.Add(outputName);
        output.Arguments.Add(outputAction);
        output.Options.Add(outputFile);
        output.SetAction(async (parse, cancellationToken) =>
        {
            using var runtime = Runtime(parse, config, database);
            var history = OpenExisting(runtime);
            var run = Get(history, parse.GetValue(outputName)!, previewOnly: true);
            var action = parse.GetValue(outputAction);
            if (action is not null && !history.HasAction(run.Name, action))
            {
                throw new FlyteSharpException($"run '{run.Name}' has no action '{action}'", history.DatabasePath,
                    fix: $"use an id from `flytesharp runs show {run.Name}`");
            }

            await using var source = await history.OpenOutputAsync(run.Name, action, cancellationToken)
                ?? throw new FlyteSharpException(
                    $"{(action is null ? $"run '{run.Name}'" : $"action '{action}' of run '{run.Name}'")} has no output (status {RunText.Status(run.Status)})", history.DatabasePath,
                    fix: "wait until it succeeded, or see its error with `flytesharp runs show`");

            var file = parse.GetValue(outputFile);
            if (file is null)
            {
                // Through the console's writer in bounded pieces (tests and pipes alike), never as one string.
                using var reader = new StreamReader(source, System.Text.Encoding.UTF8);
                var buffer = new char[1 << 15];
                int read;
                while ((read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken)) > 0)
                {
                    await console.Out.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }

                await console.Out.WriteLineAsync();
                return 0;
            }

            var target = Path.GetFullPath(file);
            await AtomicFile.WriteAsync(target, (stream, ct) => source.CopyToAsync(stream, 1 << 16, ct), cancellationToken);
            await console.Error.WriteLineAsync($"wrote {RunText.Size(new FileInfo(target).Length)} to {target}");
            return 0;
        });

        command.Subcommands.Add(list);
        command.Subcommands.Add(show);
        command.Subcommands.Add(logs);
        command.Subcommands.Add(abort);
        command.Subcommands.Add(gc);
        command.Subcommands.Add(output);
        return command;
    }

    /// <summary>How often --follow and abort read the store.</summary>
    internal static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long abort waits for the run's process to stop it.</summary>
    internal static readonly TimeSpan AbortWait = TimeSpan.FromSeconds(60);

    /// <summary>A runtime over the config (<c>--config</c>) with <c>--db</c>, when given, as its run database.</summary>
    private static FlyteRuntime Runtime(ParseResult parse, Option<string?> config, Option<string?> database)
    {
        var settings = FlyteConfig.Load(parse.GetValue(config));
        return new FlyteRuntime(parse.GetValue(database) is { } db ? settings with { RunDatabase = Path.GetFullPath(db) } : settings);
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    // Reading opens an existing database only: opening creates one (and its directories), so a mistyped --db would
    // leave an empty database behind and answer "no runs" / "no run named" as if the name were the mistake.
    private static RunHistory OpenExisting(FlyteRuntime runtime)
    {
        var full = Path.GetFullPath(runtime.Config.EffectiveRunDatabase);
        return Exists(full)
            ? runtime.Runs
            : throw new FlyteSharpException($"there is no run database at {full}", full,
                fix: "point --db (or [runs] database in the config, or FLYTESHARP_RUN_DB) at the database the run was recorded in; nothing has been recorded here yet");
    }

    private static RunRecord Get(RunHistory history, string name, bool previewOnly = false) =>
        history.Find(name, previewOnly) ?? throw new FlyteSharpException($"there is no run named '{name}'", history.DatabasePath,
            fix: "list runs with `flytesharp runs list` (or point --db / --config at the store the run was recorded in)");

    private static IEnumerable<string> Tree(IReadOnlyList<ActionRecord> actions)
    {
        // Actions come parents-first in call order; draw each with its ancestors' continuation bars.
        var lastChild = actions.Where(a => a.ParentId is not null).GroupBy(a => a.ParentId!).ToDictionary(g => g.Key, g => g.Last().Id, StringComparer.Ordinal);
        var byId = actions.ToDictionary(a => a.Id, StringComparer.Ordinal);
        foreach (var a in actions)
        {
            var prefix = "";
            if (a.ParentId is not null)
            {
                prefix = lastChild[a.ParentId] == a.Id ? "└─ " : "├─ ";
                for (var p = byId.GetValueOrDefault(a.ParentId); p?.ParentId is not null; p = byId.GetValueOrDefault(p.ParentId))
                {
                    prefix = (lastChild[p.ParentId] == p.Id ? "   " : "│  ") + prefix;
                }
            }

            var output = a.OutputsJson ?? a.OutputsBlob?.Preview;
            var detail = a.Error is null ? output is { } o ? " → " + (o.Length > 80 || a.OutputsBlob is not null ? o[..Math.Min(o.Length, 77)] + "..." : o) : "" : PlainProgress.PrintableLines($" ✗ {a.Error.Type}: {a.Error.Message}");
            var attempts = a.Attempts > 1 ? $" ({a.Attempts} attempts)" : "";
            yield return $"  {prefix}{a.Task} [{a.Id}] {RunText.Status(a.Status)} {RunText.Duration(a.Duration)}{attempts}{detail}";
        }
    }
}
