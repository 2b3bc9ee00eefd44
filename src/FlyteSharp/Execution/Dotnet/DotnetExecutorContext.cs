using FlyteSharp.Configuration;
using FlyteSharp.Execution.Secrets;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>What the .NET executors need for the lifetime of one run.</summary>
/// <param name="RunName">The run.</param>
/// <param name="SandboxDirectory">The run's private scratch directory.</param>
/// <param name="Config">Settings (store, images, registry).</param>
/// <param name="Secrets">The run's secrets.</param>
internal sealed record DotnetExecutorContext(string RunName, string SandboxDirectory, FlyteConfig Config, RunSecrets Secrets)
{
    /// <summary>Where image builds the run needs report their steps (the run's <see cref="RunOptions.BuildProgress"/>).</summary>
    public Building.IImageBuildProgress? BuildProgress { get; init; }

    /// <summary>The run's controller API server (reusable Pods pull their requests from it); null outside a run.</summary>
    public Controller.ControllerServerLink? Controller { get; init; }
}
