using System.CommandLine;
using FlyteSharp.Configuration;

namespace FlyteSharp.Cli.Projects;

/// <summary>The arguments every project command shares: the project, <c>--config</c>, <c>--root-dir</c> and <c>--no-build</c>.</summary>
internal sealed class ProjectArguments
{
    public Argument<string> Project { get; } = new("project") { Description = "A .csproj, or the folder that holds it.", DefaultValueFactory = _ => "." };

    public Option<string?> Config { get; } = new("--config") { Description = "Config file (default: FLYTESHARP_CONFIG, else flytesharp.toml from the project folder upwards)." };

    public Option<string?> RootDir { get; } = new("--root-dir")
    {
        Description = "The code bundle's root (default: root_dir from the config, else inferred from the environments' uv projects: src/ of a src layout, the project folder of a flat one, a workspace's root).",
    };

    public Option<bool> NoBuild { get; } = new("--no-build") { Description = "Do not build the project; load its existing output." };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Project);
        command.Options.Add(Config);
        command.Options.Add(RootDir);
        command.Options.Add(NoBuild);
    }

    /// <summary>
    /// Builds and loads the project and reads the configuration relative to it. root_dir is <c>--root-dir</c>, else the
    /// config's, else inferred from the environments' uv projects (<see cref="RootDirInference"/>), the choice written once
    /// to <paramref name="notes"/>. The returned config carries that root_dir.
    /// </summary>
    public async Task<(LoadedProject Project, FlyteConfig Config, string? RootDir)> LoadAsync(ParseResult parse, CancellationToken cancellationToken, TextWriter? notes = null)
    {
        var project = await ProjectLoader.LoadAsync(parse.GetValue(Project)!, !parse.GetValue(NoBuild), cancellationToken);
        var config = FlyteConfig.Load(parse.GetValue(Config), project.ProjectDirectory);
        var rootDir = parse.GetValue(RootDir) is { } r ? Path.GetFullPath(r) : config.RootDir;
        if (rootDir is null && RootDirInference.Infer(project.Environments) is var (inferred, reason))
        {
            rootDir = inferred;
            if (notes is not null)
            {
                await notes.WriteLineAsync($"root_dir: {inferred} (inferred from the uv project of {reason}; --root-dir or root_dir in flytesharp.toml sets another)");
            }
        }

        return (project, config with { RootDir = rootDir }, rootDir);
    }
}
