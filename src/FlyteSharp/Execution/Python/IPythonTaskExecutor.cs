using FlyteSharp.Configuration;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// Runs Python task actions of one run. The local implementation keeps a warm interpreter per environment;
/// a container implementation runs the environment's image with the bundle extracted at start. Both use
/// <c>flytesharp_runner.py</c>, whose protocol <see cref="RunnerProtocol"/> speaks.
/// </summary>
internal interface IPythonTaskExecutor : IAsyncDisposable
{
    /// <summary>Imports each referenced module in the environment and reports its function's signature, or why it does not resolve.</summary>
    Task<IReadOnlyList<PythonFunctionInfo>> DescribeAsync(TaskEnvironment environment, IReadOnlyList<PythonTaskReference> tasks, CancellationToken cancellationToken);

    /// <summary>Calls one Python function. Python exceptions come back as <see cref="PythonTaskResult.Error"/>, not as thrown exceptions.</summary>
    Task<PythonTaskResult> ExecuteAsync(PythonTaskRequest request, CancellationToken cancellationToken);
}

/// <summary>The code bundle of a run: its digest, the archive on local disk, where the store holds it, and where it is extracted.</summary>
/// <param name="Digest">The bundle's content digest.</param>
/// <param name="ArchivePath">The archive on local disk.</param>
/// <param name="StoreUri">The blob URI a container downloads it from.</param>
/// <param name="ExtractedDirectory">The directory the bundle is extracted in for local execution.</param>
internal sealed record PythonBundle(string Digest, string? ArchivePath, string? StoreUri, string ExtractedDirectory);

/// <summary>Everything an executor needs for the lifetime of one run.</summary>
/// <param name="RunName">The run.</param>
/// <param name="SandboxDirectory">The run's private scratch directory (deleted when the run ends).</param>
/// <param name="Bundle">The run's code bundle.</param>
/// <param name="Config">Settings (interpreter, store, images).</param>
/// <param name="RootDir">The project's root_dir (used to find the project's .venv).</param>
internal sealed record PythonExecutorContext(string RunName, string SandboxDirectory, PythonBundle Bundle, FlyteConfig Config, string? RootDir);

/// <summary>One Python action.</summary>
/// <param name="Task">The function to call.</param>
/// <param name="Environment">The task environment (its image, for containers).</param>
/// <param name="InputsJson">Inputs as one JSON object keyed by parameter name.</param>
/// <param name="ActionId">The action's id.</param>
/// <param name="Log">Receives each captured output line: (stream, line) with stream <c>stdout</c> or <c>stderr</c>.</param>
internal sealed record PythonTaskRequest(PythonTaskReference Task, TaskEnvironment Environment, string InputsJson, string ActionId, Action<string, string> Log);
