using FlyteSharp.Configuration;

namespace FlyteSharp.Execution;

/// <summary>
/// Per-run settings for <see cref="FlyteRuntime.Run{TOut}(Tasks.FlyteTask{TOut}, RunOptions?)"/>; everything else (settings,
/// root_dir, clock, stores) belongs to the runtime the run is started on.
/// </summary>
public sealed record RunOptions
{
    /// <summary>The run's name; generated (task, time, random suffix) when null. Must be unique in the run store.</summary>
    public string? Name { get; init; }

    /// <summary>Where Python actions run; defaults to the configuration's <c>runs.mode</c>.</summary>
    public ExecutionMode? Mode { get; init; }

    /// <summary>Maximum number of actions running at once in this run (default: <see cref="FlyteConfig.MaxConcurrency"/>).</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>
    /// Runs a deployed version (see <see cref="FlyteRuntime.Deploy(Tasks.TaskEnvironment, CopyStyle, string?, Deploy.DeployOptions?)"/>):
    /// Python tasks run in containers of the images recorded under this version, whose code is baked in, and C# tasks of
    /// environments with a .NET image in containers of their deployed image with the code recorded at deploy time (baked
    /// assemblies or the bundle stored then), so no code bundle is made or uploaded. Runs in <see cref="ExecutionMode.Container"/>
    /// mode, or <see cref="ExecutionMode.Kubernetes"/> when that is the mode (C# tasks only: Python tasks of deployed images do not
    /// run as pods yet); <see cref="ExecutionMode.Local"/> is refused, as is a version nothing is deployed under.
    /// </summary>
    public string? Version { get; init; }

    /// <summary>
    /// Receives the image builds this run makes (container and kubernetes modes build an environment's image when the
    /// registry lacks its tag, the first time an action needs it): image found in the registry, each builder step, built
    /// or failed. Builds for the pre-run check happen before <c>Run</c> returns, so a view should listen from the start.
    /// </summary>
    public Building.IImageBuildProgress? BuildProgress { get; init; }

    /// <summary>Cancels the run: running actions are cancelled and the run is recorded as cancelled.</summary>
    public CancellationToken CancellationToken { get; init; }
}
