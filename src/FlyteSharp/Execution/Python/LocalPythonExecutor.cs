using System.Collections.Concurrent;
using System.Text.Json;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Images;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// Runs Python actions in local interpreters started from the run's extracted bundle. Workers are kept warm
/// per environment for the run's lifetime; a worker whose action is cancelled (timeout) is killed, not reused.
/// </summary>
internal sealed class LocalPythonExecutor : IPythonTaskExecutor
{
    private readonly PythonExecutorContext _context;
    private readonly string _interpreter;
    private readonly string _runnerPath;
    private readonly ConcurrentDictionary<string, ConcurrentBag<PythonWorker>> _idle = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<PythonWorker, byte> _all = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _workerSlots = new(StringComparer.Ordinal);
    private int _disposed;

    public LocalPythonExecutor(PythonExecutorContext context)
    {
        _context = context;
        _interpreter = PythonInterpreter.Resolve(context.Config, context.RootDir);
        Directory.CreateDirectory(context.SandboxDirectory);
        _runnerPath = Path.Combine(context.SandboxDirectory, PythonRunnerScript.FileName);
        File.WriteAllBytes(_runnerPath, PythonRunnerScript.Bytes);
    }

    /// <summary>
    /// Interpreters per environment at most: more than the machine's cores only adds start-up cost and
    /// contention for CPU-bound tasks, while a few spare ones keep I/O-bound tasks overlapping.
    /// </summary>
    public static int MaxWorkersPerEnvironment { get; } = Math.Max(4, Environment.ProcessorCount * 2);

    /// <summary>The interpreter in use.</summary>
    public string Interpreter => _interpreter;

    public async Task<IReadOnlyList<PythonFunctionInfo>> DescribeAsync(TaskEnvironment environment, IReadOnlyList<PythonTaskReference> tasks, CancellationToken cancellationToken)
    {
        var request = RunnerProtocol.DescribeRequest(tasks.Select(t => t.ToString()));
        using var doc = await SendAsync(environment, request, null, withSecrets: false, cancellationToken).ConfigureAwait(false);
        return RunnerProtocol.ParseDescribe(doc.RootElement.GetProperty("output"));
    }

    public Task<TaskReply> ExecuteAsync(PythonTaskRequest request, CancellationToken cancellationToken) =>
        // Large values never cross the pipe: inputs, captured output and a large result go through files in the sandbox.
        ServeCall.RunAsync(request, Path.Combine(_context.SandboxDirectory, "spill"), null, _context.Config.InlineOutputLimit,
            message => SendAsync(request.Environment, message, request.Log, withSecrets: true, cancellationToken, request.Placed), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Task.WhenAll(_all.Keys.Select(w => w.DisposeAsync().AsTask())).ConfigureAwait(false);
        _all.Clear();
    }

    private async Task<JsonDocument> SendAsync(TaskEnvironment environment, Dictionary<string, object?> request, Action<string, string>? log, bool withSecrets,
        CancellationToken cancellationToken, Action<string?, string>? placed = null)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var slots = _workerSlots.GetOrAdd(environment.Name, _ => new SemaphoreSlim(MaxWorkersPerEnvironment, MaxWorkersPerEnvironment));
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await SendOnWorkerAsync(environment, request, log, withSecrets, placed, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }

    private async Task<JsonDocument> SendOnWorkerAsync(TaskEnvironment environment, Dictionary<string, object?> request, Action<string, string>? log, bool withSecrets,
        Action<string?, string>? placed, CancellationToken cancellationToken)
    {
        // Describe (the pre-run check) never gets secrets: a missing secret fails the action that needs it, not the check.
        var bag = _idle.GetOrAdd(withSecrets ? environment.Name : environment.Name + "\0describe", _ => new ConcurrentBag<PythonWorker>());
        PythonWorker? worker = null;
        while (bag.TryTake(out var candidate))
        {
            if (!candidate.HasExited)
            {
                worker = candidate;
                break;
            }

            _all.TryRemove(candidate, out _);
            await candidate.DisposeAsync().ConfigureAwait(false);
        }

        if (worker is null)
        {
            var variables = withSecrets ? Variables(environment) : new Dictionary<string, string>(environment.EnvVars, StringComparer.Ordinal);
            worker = PythonWorker.Start(_interpreter, _runnerPath, _context.Bundle.ExtractedDirectory, _context.SandboxDirectory, ImageSourcePath(environment),
                PythonImportPaths.For(environment.Image, _context.RootDir), variables);
            _all[worker] = 0;
        }

        placed?.Invoke(null, $"local python ({Environment.MachineName}, pid {worker.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
        try
        {
            var doc = await worker.SendAsync(request, log, cancellationToken).ConfigureAwait(false);
            bag.Add(worker);
            return doc;
        }
        catch
        {
            // Cancelled mid-call, or the process died: its state is unknown, so it is never reused.
            worker.Kill();
            _all.TryRemove(worker, out _);
            await worker.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The environment's variables plus its secrets: a secret delivered as a variable is set in the process's environment;
    /// a mounted one is written (0600) to its container path under the run sandbox's <c>secrets/{environment}</c>, which
    /// <c>FLYTESHARP_SECRETS_ROOT</c> names. Resolving throws when a secret is missing, before the task starts.
    /// </summary>
    private Dictionary<string, string> Variables(TaskEnvironment environment)
    {
        var variables = new Dictionary<string, string>(environment.EnvVars, StringComparer.Ordinal);
        var secrets = _context.Secrets.Resolve(environment);
        var root = Path.Combine(_context.SandboxDirectory, "secrets", environment.Name);
        foreach (var resolved in secrets)
        {
            if (resolved.Secret.EnvironmentVariable is { } name)
            {
                variables[name] = resolved.Value;
            }

            if (resolved.Secret.FilePath is { } file)
            {
                SecretFiles.Write(Path.Combine(root, file.TrimStart('/')), resolved.Value, root);
                variables["FLYTESHARP_SECRETS_ROOT"] = root;
            }
        }

        return variables;
    }

    /// <summary>
    /// Mirrors the environment image's <c>WithSourceFolder</c> layers that land on the image's PYTHONPATH
    /// (<c>/root/{name}</c>): each is linked into the sandbox under its image name, and that directory goes on
    /// PYTHONPATH after the bundle. So seed Pattern B's my_lib imports locally exactly as it will in the container.
    /// </summary>
    private string? ImageSourcePath(TaskEnvironment environment)
    {
        var folders = ImageSourceFolders.Importable(environment).ToArray();
        if (folders.Length == 0)
        {
            return null;
        }

        var directory = Path.Combine(_context.SandboxDirectory, "image-src", environment.Name);
        Directory.CreateDirectory(directory);
        foreach (var (name, source) in folders)
        {
            var link = Path.Combine(directory, name);
            if (!Path.Exists(link))
            {
                File.CreateSymbolicLink(link, source);
            }
        }

        return directory;
    }
}
