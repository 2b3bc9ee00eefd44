using System.CommandLine;
using FlyteSharp.Cli.Projects;
using FlyteSharp.Images;

namespace FlyteSharp.Cli;

/// <summary>
/// <c>flytesharp images &lt;project&gt;</c>: lists the project's task environments with their image URIs;
/// <c>--json</c> for machines, <c>--dockerfile ENV</c> prints one image's Dockerfile, <c>--context ENV DIR</c>
/// writes its build context.
/// </summary>
internal static class ImagesCommand
{
    public static Command Create(CliConsole console)
    {
        var project = new ProjectArguments();
        var json = new Option<bool>("--json") { Description = "Print a JSON array of {environment, uri, tag, registry, repository, …}." };
        var dockerfile = new Option<string?>("--dockerfile") { Description = "Print the rendered Dockerfile of this environment's image." };
        var context = new Option<string[]>("--context")
        {
            Description = "Write this environment's build context (Dockerfile included) to a new or empty directory: --context ENV DIR.",
            Arity = new ArgumentArity(2, 2),
            AllowMultipleArgumentsPerToken = true,
        };
        var copyStyle = new Option<CopyStyle>("--copy-style")
        {
            Description = "All (fast deploy, default: WithCodeBundle() is a no-op) or None (full build: the code is copied into the image).",
            DefaultValueFactory = _ => CopyStyle.All,
        };
        var command = new Command("images", "List a project's task environments and their content-addressed images.");
        project.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(dockerfile);
        command.Options.Add(context);
        command.Options.Add(copyStyle);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (loaded, config, _) = await project.LoadAsync(parse, cancellationToken, console.Error);
            var options = new ImageResolveOptions(config, parse.GetValue(copyStyle));
            if (parse.GetValue(dockerfile) is { } envName)
            {
                await console.Out.WriteAsync(loaded.Environment(envName).Image.Resolve(options).Dockerfile);
                return 0;
            }

            if (parse.GetValue(context) is { Length: 2 } contextArgs)
            {
                var resolved = loaded.Environment(contextArgs[0]).Image.Resolve(options);
                var dir = Path.GetFullPath(contextArgs[1]);
                await resolved.WriteBuildContextAsync(dir, cancellationToken);
                await console.Out.WriteLineAsync($"wrote build context of {contextArgs[0]} ({resolved.Uri}) to {dir}: {resolved.ContextFiles.Count} files");
                return 0;
            }

            var rows = loaded.Environments.Select(e => (Env: e, Image: e.Image.Resolve(options))).ToList();
            if (parse.GetValue(json))
            {
                var items = rows.Select(r => new
                {
                    environment = r.Env.Name,
                    uri = r.Image.Uri,
                    tag = r.Image.Tag,
                    registry = r.Image.Registry,
                    repository = r.Image.Repository,
                    copyStyle = r.Image.CopyStyle,
                    python = r.Image.PythonExecutable,
                    layers = r.Env.Image.Layers.Select(l => l.GetType().Name).ToArray(),
                });
                await console.Out.WriteLineAsync(CliJson.Serialize(items));
                return 0;
            }

            if (rows.Count == 0)
            {
                await console.Out.WriteLineAsync($"{loaded.ProjectFile} defines no task environments (static TaskEnvironment fields or properties).");
                return 0;
            }

            var width = rows.Max(r => r.Env.Name.Length);
            foreach (var (env, image) in rows)
            {
                await console.Out.WriteLineAsync($"{env.Name.PadRight(width)}  {image.Uri}");
            }

            return 0;
        });
        return command;
    }
}
