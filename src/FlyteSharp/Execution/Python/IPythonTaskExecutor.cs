using System.Text.Json;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// Runs Python task actions of one run. The local implementation keeps a warm interpreter per environment;
/// a container implementation runs the environment's image with the bundle extracted at start. Both use
/// <c>flytesharp_runner.py</c> (see the protocol at the top of that file).
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
internal sealed record PythonExecutorContext(string RunName, string SandboxDirectory, PythonBundle Bundle, FlyteConfig Config, string? RootDir)
{
    /// <summary>The run's secrets (looked up when an action of an environment that names them starts).</summary>
    public RunSecrets Secrets { get; init; } = new(Config);
}

/// <summary>One Python action.</summary>
/// <param name="Task">The function to call.</param>
/// <param name="Environment">The task environment (its image, for containers).</param>
/// <param name="InputsJson">Inputs as one JSON object keyed by parameter name.</param>
/// <param name="ActionId">The action's id.</param>
/// <param name="Log">Receives each captured output line: (stream, line) with stream <c>stdout</c> or <c>stderr</c>.</param>
/// <param name="InputsFile">When the inputs are above the inline limit: a file holding them (then <paramref name="InputsJson"/> is empty).</param>
/// <param name="Placed">Told where the action runs once the executor knows: (image URI or null, process/container/pod).</param>
internal sealed record PythonTaskRequest(PythonTaskReference Task, TaskEnvironment Environment, string InputsJson, string ActionId, Action<string, string> Log,
    string? InputsFile = null, Action<string?, string>? Placed = null);

/// <summary>The outcome of one Python call: the output's JSON text, or the Python error.</summary>
internal sealed record PythonTaskResult(string? OutputJson, PythonError? Error)
{
    /// <summary>A file holding the output's JSON when it was above the inline limit (then <see cref="OutputJson"/> is null).</summary>
    public string? OutputFile { get; init; }
}

/// <summary>A Python exception as reported by the runner.</summary>
internal sealed record PythonError(string Type, string Message, string Traceback);

/// <summary>What the runner's describe reports for one reference.</summary>
internal sealed record PythonFunctionInfo(
    string Task,
    bool Ok,
    string? File,
    bool IsAsync,
    IReadOnlyList<PythonParameterInfo> Parameters,
    string? ErrorType,
    string? ErrorMessage,
    IReadOnlyList<string> Defined)
{
    /// <summary>Reads one element of the runner's <c>describe</c> output (local and container executors share the protocol).</summary>
    public static PythonFunctionInfo FromRunnerJson(JsonElement e)
    {
        var task = e.GetProperty("task").GetString()!;
        if (e.GetProperty("ok").GetBoolean())
        {
            return new PythonFunctionInfo(task, true, e.GetProperty("file").GetString(), e.GetProperty("is_async").GetBoolean(),
                e.GetProperty("parameters").EnumerateArray().Select(p => new PythonParameterInfo(
                    p.GetProperty("name").GetString()!,
                    p.GetProperty("annotation").ValueKind == JsonValueKind.String ? p.GetProperty("annotation").GetString() : null,
                    p.GetProperty("kind").GetString()!,
                    p.GetProperty("has_default").GetBoolean())).ToArray(),
                null, null, []);
        }

        var error = e.GetProperty("error");
        return new PythonFunctionInfo(task, false, null, false, [], error.GetProperty("type").GetString(), error.GetProperty("message").GetString(),
            error.TryGetProperty("defined", out var d) ? d.EnumerateArray().Select(x => x.GetString()!).ToArray() : []);
    }
}

/// <summary>One parameter of a described Python function.</summary>
internal sealed record PythonParameterInfo(string Name, string? Annotation, string Kind, bool HasDefault);
