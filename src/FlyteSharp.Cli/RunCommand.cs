using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlyteSharp.Cli.Progress;
using FlyteSharp.Cli.Projects;
using FlyteSharp.Execution;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using FlyteSharp.Tasks.Discovery;

namespace FlyteSharp.Cli;

/// <summary>
/// <c>flytesharp run &lt;project&gt; &lt;task&gt; [--input name=value …] [--json]</c>: builds and loads the project, finds the task
/// among its static fields/properties, runs it locally and prints the run's name, URL and outputs.
/// </summary>
internal static class RunCommand
{
    public static Command Create(CliConsole console)
    {
        var project = new ProjectArguments();
        var task = new Argument<string>("task") { Description = "The task: its name (etl_pipeline), its member name (EtlPipeline) or a Python function name (load_data)." };
        var inputs = new Option<string[]>("--input", "-i")
        {
            Description = "An input as name=value; the value is JSON (10, 1.5, [1,2], {\"a\":1}, \"text\") or a bare string.",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = new Option<bool>("--json") { Description = "Print {run, url, status, outputs, error} as JSON." };
        var name = new Option<string?>("--name") { Description = "The run's name (default: generated)." };
        var mode = new Option<ExecutionMode?>("--mode") { Description = "Where Python tasks run: Local (default), Container or Kubernetes (a pod per action; see docs/kubernetes.md)." };
        var version = new Option<string?>("--version") { Description = "Run a deployed version (flytesharp deploy): Python tasks and C# tasks of .NET environments run in its images with the deployed code; no bundle." };
        var command = new Command("run", "Run a task of a project locally and record the run.");
        project.AddTo(command);
        command.Arguments.Add(task);
        command.Options.Add(inputs);
        command.Options.Add(json);
        command.Options.Add(name);
        command.Options.Add(mode);
        command.Options.Add(version);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var named = ParseInputs(parse.GetValue(inputs) ?? []);
            var (loaded, config, _) = await project.LoadAsync(parse, cancellationToken, console.Error);
            var definition = FindTask(loaded, parse.GetValue(task)!);
            using var runtime = new FlyteRuntime(config);
            var asJson = parse.GetValue(json);
            var options = new RunOptions
            {
                Name = parse.GetValue(name),
                Mode = parse.GetValue(mode),
                Version = parse.GetValue(version),
                CancellationToken = cancellationToken,
            };
            Run run;
            if (console.IsInteractive && !asJson)
            {
                // The live view starts before the run: the pre-run check may build an image first, and the view shows its steps.
                var builds = new BuildRows(TimeProvider.System);
                run = await RunProgress.LiveAsync(
                    () => runtime.RunWithTextInputsAsync(definition, named, options with { BuildProgress = builds }), builds, cancellationToken);
            }
            else
            {
                // Plain lines (image builds, then action changes) on stdout, or on stderr with --json so stdout stays one
                // JSON document; one synchronized writer, since builds report from their own threads while the run is followed.
                var progress = TextWriter.Synchronized(asJson ? console.Error : console.Out);
                run = await runtime.RunWithTextInputsAsync(definition, named, options with { BuildProgress = new PlainBuildProgress(progress) });
                if (!asJson)
                {
                    await progress.WriteLineAsync($"run:    {run.Name}");
                    await progress.WriteLineAsync($"url:    {run.Url}");
                    if (run.BundleDigest is not null)
                    {
                        await progress.WriteLineAsync($"bundle: {run.BundleDigest}");
                    }
                }

                await RunProgress.FollowAsync(run, progress, cancellationToken);
            }

            var status = await run.WaitAsync(cancellationToken);
            var record = await run.GetRecordAsync(cancellationToken);
            if (asJson)
            {
                var result = new JsonObject
                {
                    ["run"] = run.Name,
                    ["url"] = run.Url,
                    ["status"] = JsonSerializer.SerializeToNode(status, CliJson.Options),
                    ["bundleDigest"] = run.BundleDigest,
                    ["outputs"] = record.OutputsJson is null ? null : JsonNode.Parse(record.OutputsJson),
                    ["outputsBlob"] = record.OutputsBlob is null ? null : JsonSerializer.SerializeToNode(record.OutputsBlob, CliJson.Options),
                    ["error"] = record.Error is null ? null : JsonSerializer.SerializeToNode(record.Error, CliJson.Options),
                };
                await console.Out.WriteLineAsync(result.ToJsonString(CliJson.Options));
            }
            else
            {
                await console.Out.WriteLineAsync($"status: {RunText.Status(status)} in {RunText.Duration(record.Duration)}");
                if (record.OutputsJson is not null || record.OutputsBlob is not null)
                {
                    var preview = RunText.Preview(record.OutputsJson, record.OutputsBlob, null, out var size);
                    await console.Out.WriteLineAsync($"outputs: {preview}");
                    if (size is { } whole)
                    {
                        await console.Out.WriteLineAsync($"         (a preview of {RunText.Size(whole)}; the whole output: flytesharp runs output {run.Name} [-o FILE])");
                    }
                }

                await console.Out.WriteLineAsync($"console: {run.Url}");
            }

            if (status != RunStatus.Succeeded)
            {
                if (record.Error is { } error)
                {
                    await console.Error.WriteLineAsync(PlainProgress.PrintableLines($"error: {error.Type}: {error.Message}"));
                    if (!string.IsNullOrEmpty(error.Traceback) && run.Error is RemoteTaskException)
                    {
                        await console.Error.WriteLineAsync(PlainProgress.PrintableLines(error.Traceback.TrimEnd()));
                    }
                }

                return FlyteCli.Failure;
            }

            return 0;
        });
        return command;
    }

    internal static IReadOnlyDictionary<string, string> ParseInputs(string[] pairs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FlyteSharpException($"--input '{pair}' is not of the form name=value", fix: "write e.g. --input n=10");
            }

            if (!result.TryAdd(pair[..eq], pair[(eq + 1)..]))
            {
                throw new FlyteSharpException($"--input '{pair[..eq]}' is given twice", fix: "give each input once");
            }
        }

        return result;
    }

    /// <summary>The task <paramref name="name"/> designates in the project (see <see cref="TaskCatalog.FindTask"/>).</summary>
    /// <exception cref="FlyteSharpException">No task, or several, answer to the name; the fix lists names that pick exactly one.</exception>
    internal static TaskDefinition FindTask(LoadedProject project, string name) => project.Catalog.FindTask(name);
}
