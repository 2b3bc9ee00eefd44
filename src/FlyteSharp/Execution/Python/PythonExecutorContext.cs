using FlyteSharp.Configuration;
using FlyteSharp.Execution.Secrets;

namespace FlyteSharp.Execution.Python;

/// <summary>Everything an executor needs for the lifetime of one run.</summary>
/// <param name="RunName">The run.</param>
/// <param name="SandboxDirectory">The run's private scratch directory (deleted when the run ends).</param>
/// <param name="Bundle">The run's code bundle.</param>
/// <param name="Config">Settings (interpreter, store, images).</param>
/// <param name="RootDir">The project's root_dir (used to find the project's .venv).</param>
internal sealed record PythonExecutorContext(string RunName, string SandboxDirectory, PythonBundle Bundle, FlyteConfig Config, string? RootDir)
{
    /// <summary>The run's secrets (looked up when an action of an environment that names them starts).</summary>
    public RunSecrets Secrets { get; init; } = new(Config);

    /// <summary>Where images built for this run report their steps; null when nobody follows them.</summary>
    public Building.IImageBuildProgress? BuildProgress { get; init; }

    /// <summary>The run's controller API server (reusable Pods pull their requests from it); null outside a run.</summary>
    public Controller.ControllerServerLink? Controller { get; init; }
}
