using FlyteSharp.Configuration;

namespace FlyteSharp.Execution;

/// <summary>Per-run settings for <see cref="Flyte.Run{TOut}(Tasks.FlyteTask{TOut}, RunOptions?)"/>; everything defaults to the initialized configuration.</summary>
public sealed record RunOptions
{
    /// <summary>The run's name; generated (task, time, random suffix) when null. Must be unique in the run store.</summary>
    public string? Name { get; init; }

    /// <summary>Where Python actions run; defaults to the configuration's <c>runs.mode</c>.</summary>
    public ExecutionMode? Mode { get; init; }

    /// <summary>Settings for this run instead of the ones given to <see cref="Flyte.InitFromConfig"/>.</summary>
    public FlyteConfig? Config { get; init; }

    /// <summary>The code bundle's root directory for this run instead of the initialized one.</summary>
    public string? RootDir { get; init; }

    /// <summary>Maximum number of actions running at once in this run (default: <see cref="FlyteConfig.MaxConcurrency"/>).</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>The clock for every timestamp of the run (default: the system clock).</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>
    /// Runs a deployed version (see <see cref="Flyte.Deploy(Tasks.TaskEnvironment, CopyStyle, string?, Deploy.DeployOptions?)"/>):
    /// Python tasks run in containers of the images recorded under this version, whose code is baked in, so no
    /// code bundle is made or uploaded. Implies <see cref="ExecutionMode.Container"/>.
    /// </summary>
    public string? Version { get; init; }

    /// <summary>Cancels the run: running actions are cancelled and the run is recorded as cancelled.</summary>
    public CancellationToken CancellationToken { get; init; }
}
