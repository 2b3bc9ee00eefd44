using System.CommandLine;
using FlyteSharp.Cli.Progress;
using FlyteSharp.Cli.Projects;
using FlyteSharp.Deploy;

namespace FlyteSharp.Cli;

/// <summary>
/// <c>flytesharp deploy &lt;project&gt; --version V [--copy-style none] [--env E] [--allow-dirty] [--json]</c>:
/// a full build of every (or the chosen) environment — the code copied into the image — pushed and recorded
/// under the version. <c>--version git</c> takes the current commit; <c>--list</c> shows recorded deployments.
/// </summary>
internal static class DeployCommand
{
    public static Command Create(CliConsole console)
    {
        var project = new ProjectArguments();
        var version = new Option<string?>("--version") { Description = "The version to deploy under (required): e.g. 1.2.3, or git for the current commit." };
        var copyStyle = new Option<CopyStyle>("--copy-style")
        {
            Description = "None (default): WithCodeBundle() copies the code into the image. Deploys always bake the code in.",
            DefaultValueFactory = _ => CopyStyle.None,
        };
        var env = new Option<string[]>("--env") { Description = "Only these environments (repeatable); default: all." };
        var allowDirty = new Option<bool>("--allow-dirty") { Description = "With --version git: allow uncommitted changes (the version gets a -dirty suffix)." };
        var list = new Option<bool>("--list") { Description = "List recorded deployments (of --version, if given) instead of deploying." };
        var json = new Option<bool>("--json") { Description = "Print the deployments as JSON." };
        var command = new Command("deploy", "Full-build deploy: bake the code into the images, push them and record the version.");
        project.AddTo(command);
        command.Options.Add(version);
        command.Options.Add(copyStyle);
        command.Options.Add(env);
        command.Options.Add(allowDirty);
        command.Options.Add(list);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(list))
            {
                var path = Path.GetFullPath(parse.GetValue(project.Project)!);
                var config = Configuration.FlyteConfig.Load(parse.GetValue(project.Config), Directory.Exists(path) ? path : Path.GetDirectoryName(path));
                using var recorded = new FlyteRuntime(config);
                var rows = parse.GetValue(version) is { } v ? recorded.Deployments(v) : recorded.Deployments();
                await WriteAsync(console, rows, parse.GetValue(json));
                return 0;
            }

            var (loaded, loadedConfig, _) = await project.LoadAsync(parse, cancellationToken, console.Error);
            var resolvedVersion = parse.GetValue(version) is null
                ? throw new FlyteSharpException("deploy needs --version", loaded.ProjectFile,
                    fix: "pass --version 1.2.3, or --version git for the current commit (recommended: you can trace which code is in which image)")
                : await DeployVersion.ResolveAsync(parse.GetValue(version), loaded.ProjectDirectory, parse.GetValue(allowDirty), cancellationToken);
            var selected = parse.GetValue(env) is { Length: > 0 } names ? names.Select(loaded.Environment).ToList() : loaded.Environments.ToList();
            loaded.LoadTasks(); // registers every task with its environment, so each deployment records its tasks
            var asJson = parse.GetValue(json);
            using var runtime = new FlyteRuntime(loadedConfig);
            var deployments = await BuildsView.RunAsync(console, asJson,
                progress => runtime.Deploy(selected, parse.GetValue(copyStyle), resolvedVersion,
                    new DeployOptions { BuildProgress = progress, CancellationToken = cancellationToken }), cancellationToken);
            await WriteAsync(console, deployments, asJson);
            return 0;
        });
        return command;
    }

    private static async Task WriteAsync(CliConsole console, IReadOnlyList<Deployment> deployments, bool json)
    {
        if (json)
        {
            var items = deployments.Select(d => new
            {
                version = d.Version,
                environment = d.Environment,
                image = d.ImageUri,
                copyStyle = d.CopyStyle,
                tasks = d.Tasks,
                resources = new { cpu = d.Resources.Cpu, memory = d.Resources.Memory, gpu = d.Resources.Gpu, disk = d.Resources.Disk },
                entry = d.Entry,
                codeDirectory = d.CodeDirectory,
                createdAt = d.CreatedAt,
            });
            await console.Out.WriteLineAsync(CliJson.Serialize(items));
            return;
        }

        if (deployments.Count == 0)
        {
            await console.Out.WriteLineAsync("no deployments recorded");
            return;
        }

        foreach (var d in deployments)
        {
            await console.Out.WriteLineAsync($"{d.Version}  {d.Environment}  {d.ImageUri}  ({d.Tasks.Count} task(s): {string.Join(", ", d.Tasks.Select(t => t.Name))})");
        }
    }
}
