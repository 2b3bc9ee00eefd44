using System.CommandLine;
using System.Globalization;
using FlyteSharp.Building;
using FlyteSharp.Cli.Progress;
using FlyteSharp.Cli.Projects;

namespace FlyteSharp.Cli;

/// <summary>
/// <c>flytesharp build &lt;project&gt; [--env E] [--force] [--json]</c>: builds and pushes every environment's
/// image (fast-deploy images: the code travels in the bundle), once per distinct tag, skipping tags the
/// registry already has, and reports built / skipped-existing / failed with timings per image. While it works it shows
/// each image's steps (<see cref="BuildsView"/>).
/// </summary>
internal static class BuildCommand
{
    /// <summary>The HTTP handler registry checks use; tests set it to count requests.</summary>
    internal static HttpMessageHandler? RegistryHandler { get; set; }

    public static Command Create(CliConsole console)
    {
        var project = new ProjectArguments();
        var env = new Option<string[]>("--env") { Description = "Only these environments (repeatable); default: all." };
        var force = new Option<bool>("--force") { Description = "Build and push even when the registry already has the tag." };
        var json = new Option<bool>("--json") { Description = "Print a JSON array of {image, environments, status, seconds, error, log}." };
        var command = new Command("build", "Build and push the project's images, skipping tags the registry already has.");
        project.AddTo(command);
        command.Options.Add(env);
        command.Options.Add(force);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (loaded, config, _) = await project.LoadAsync(parse, cancellationToken, console.Error);
            var selected = parse.GetValue(env) is { Length: > 0 } names ? names.Select(loaded.Environment).ToList() : loaded.Environments.ToList();
            if (selected.Count == 0)
            {
                throw new FlyteSharpException("the project defines no task environments, so there is nothing to build", loaded.ProjectFile,
                    fix: "define one as a static field, e.g. public static readonly TaskEnvironment Etl = new(\"etl\", image);");
            }

            using var runtime = new FlyteRuntime(config);
            var asJson = parse.GetValue(json);
            var results = await BuildsView.RunAsync(console, asJson,
                progress => runtime.BuildImages(selected, new ImageBuildOptions
                {
                    Force = parse.GetValue(force),
                    Progress = progress,
                    RegistryHandler = RegistryHandler,
                    CancellationToken = cancellationToken,
                }), cancellationToken);
            await WriteAsync(console, results, asJson);
            return results.Any(r => r.Status == ImageBuildStatus.Failed) ? FlyteCli.Failure : 0;
        });
        return command;
    }

    /// <summary>The status as printed and in JSON: <c>built</c>, <c>skipped-existing</c>, <c>failed</c>.</summary>
    internal static string StatusText(ImageBuildStatus status) => status switch
    {
        ImageBuildStatus.Built => "built",
        ImageBuildStatus.SkippedExisting => "skipped-existing",
        _ => "failed",
    };

    internal static async Task WriteAsync(CliConsole console, IReadOnlyList<ImageBuildResult> results, bool json)
    {
        if (json)
        {
            var items = results.Select(r => new
            {
                image = r.ImageUri,
                environments = r.Environments,
                status = StatusText(r.Status),
                seconds = Math.Round(r.Duration.TotalSeconds, 3),
                error = r.Error,
                log = r.LogFile,
            });
            await console.Out.WriteLineAsync(CliJson.Serialize(items));
            return;
        }

        foreach (var r in results)
        {
            var seconds = r.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            await console.Out.WriteLineAsync($"{StatusText(r.Status),-16} {r.ImageUri}  [{string.Join(", ", r.Environments)}]  {seconds}s");
            if (r.Error is not null)
            {
                await console.Out.WriteLineAsync("  " + r.Error.Replace("\n", "\n  ", StringComparison.Ordinal));
            }

            if (r.Status == ImageBuildStatus.Failed && r.LogFile is not null)
            {
                await console.Out.WriteLineAsync($"  builder log: {r.LogFile}");
            }
        }

        var built = results.Count(r => r.Status == ImageBuildStatus.Built);
        var skipped = results.Count(r => r.Status == ImageBuildStatus.SkippedExisting);
        var failed = results.Count(r => r.Status == ImageBuildStatus.Failed);
        await console.Out.WriteLineAsync($"{results.Count} image(s): {built} built, {skipped} skipped-existing, {failed} failed");
    }
}
