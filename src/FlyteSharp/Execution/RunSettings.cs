using FlyteSharp.Configuration;
using FlyteSharp.Execution.Secrets;

namespace FlyteSharp.Execution;

/// <summary>The resolved settings of one run.</summary>
internal sealed record RunSettings(
    string RunName,
    string Url,
    FlyteConfig Config,
    string? RootDir,
    ExecutionMode Mode,
    int MaxConcurrency,
    int MaxDepth,
    TimeProvider TimeProvider,
    string SandboxDirectory,
    string? DeployedVersion = null)
{
    /// <summary>The run's secrets: looked up per environment when its first action starts, masked in what is recorded.</summary>
    public RunSecrets Secrets { get; init; } = new(Config);

    /// <summary>Where the run's image builds report (<see cref="RunOptions.BuildProgress"/>).</summary>
    public Building.IImageBuildProgress? BuildProgress { get; init; }

    /// <summary>The run's controller API server, for executors made before the run (bound by <see cref="RunController"/>).</summary>
    public Controller.ControllerServerLink Controller { get; } = new();
}
