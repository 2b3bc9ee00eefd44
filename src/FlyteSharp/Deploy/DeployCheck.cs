using System.Globalization;
using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Sandboxes;
using FlyteSharp.Images;
using FlyteSharp.Processes;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Deploy;

/// <summary>
/// A deploy's check of its Python tasks in their image: every task must import and bind there, or the version is not
/// recorded. The check starts before the image is made, on the <see cref="StagedCheckImage"/> of each environment (its
/// base from local storage with the code files unpacked over it), so it overlaps making and pushing the image and pulls
/// nothing. Its answers count only for an environment whose image was then made on that very base
/// (<see cref="ConfirmAsync"/>: the assembled image's base config digest, or the built image's layers, against the local
/// base); every other environment is described in the deployed image itself, as a deployed run starts it. The whole check
/// is bounded by a timeout (a module that hangs at import).
/// </summary>
internal sealed class DeployCheck : IPythonTaskExecutor
{
    /// <summary>How long the check may take unless the deploy says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The line the check's container prints first, followed by its Python's <c>MAJOR.MINOR</c> (for <see cref="DeployCheckCache"/>).</summary>
    internal const string PythonMark = "flytesharp-check-python ";

    /// <summary>
    /// The script the check's container starts with: print its Python's version, unpack the code from stdin, enter the
    /// working directory, exec the runner.
    /// </summary>
    internal const string Unpack =
        "import os, sys, tarfile\n" +
        "print('" + PythonMark + "%d.%d' % sys.version_info[:2], flush=True)\n" +
        "kw = {'filter': 'fully_trusted'} if hasattr(tarfile, 'fully_trusted_filter') else {}\n" +
        "with tarfile.open(fileobj=sys.stdin.buffer, mode='r|') as t:\n" +
        "    for m in t:\n" +
        "        t.extract(m, '/', **kw)\n" +
        "if sys.argv[1]:\n" +
        "    os.makedirs(sys.argv[1], exist_ok=True)\n" +
        "    os.chdir(sys.argv[1])\n" +
        "os.execv(sys.argv[2], sys.argv[2:])\n";

    private readonly FlyteConfig _config;
    private readonly string _sandbox;
    private readonly string _runtime;
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenSource _stop;
    private readonly ContainerLauncher _launcher;
    private readonly Dictionary<TaskEnvironment, (StagedCheckImage Image, Task<IReadOnlyList<PythonFunctionInfo>?> Describe)> _staged = [];
    private readonly HashSet<TaskEnvironment> _confirmed = [];
    private readonly DeployCheckCache _cache;
    private readonly Dictionary<TaskEnvironment, string> _keys = [];
    private readonly HashSet<TaskEnvironment> _avoided = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TaskEnvironment, (string Python, string Json)> _answered = new();
    private string? _hostPython;
    private Task _preparing = Task.CompletedTask;
    private ContainerPythonExecutor? _deployed;
    private int _sequence;
    private TimeSpan _prepare;
    private TimeSpan _stagedDescribe;
    private TimeSpan _waited;

    /// <summary>Raised when a check is disposed, with where its time went (used by bench/).</summary>
    internal static event Action<DeployCheckTimings>? Timed;

    private DeployCheck(FlyteConfig config, string sandbox, string runtime, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _config = config;
        _sandbox = sandbox;
        _runtime = runtime;
        _timeout = timeout;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _launcher = new ContainerLauncher(Path.Combine(sandbox, "containers"), TimeProvider.System);
        _cache = new DeployCheckCache(config.Home);
    }

    /// <summary>The Python tasks checked.</summary>
    public IReadOnlyList<TaskDefinition> Tasks { get; private init; } = [];

    /// <summary>
    /// Starts the check of every Python task of <paramref name="resolved"/>'s environments on their staged images (those
    /// that have one); the rest wait for <see cref="CheckAsync"/>. Null when there is no Python task.
    /// </summary>
    public static async Task<DeployCheck?> StartAsync(
        IReadOnlyList<(TaskEnvironment Env, ResolvedImage Image)> resolved, ImageResolveOptions options, FlyteConfig config, DateTimeOffset now, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var tasks = resolved.SelectMany(r => r.Env.Tasks).Where(t => t.Kind == TaskKind.Python).Distinct().ToArray();
        if (tasks.Length == 0)
        {
            return null;
        }

        var runtime = (await ImageBuilders.CreateAsync(config, cancellationToken).ConfigureAwait(false)).Name;
        var sandbox = RunSandbox.Create(config.Home, "deploy-check", now);
        var check = new DeployCheck(config, sandbox, runtime, timeout, cancellationToken) { Tasks = tasks };

        // Preparing (the local base's inspect, the code's tar, its interface digest) runs beside making the image, not before it.
        check._preparing = Task.Run(() => check.PrepareAsync(resolved, options, check._stop.Token), CancellationToken.None);
        return check;
    }

    /// <summary>
    /// After the images are made: an environment's staged answers count only when its image was made on the local base they
    /// ran on — the base config digest the registry assembly used (<paramref name="assembled"/>), or, for an image a builder
    /// made here, its first layers equal to the base's — and from the files they saw (none changed since the check read it).
    /// </summary>
    public async Task ConfirmAsync(IReadOnlyDictionary<string, RegistryAssemblyResult> assembled, CancellationToken cancellationToken)
    {
        await _preparing.ConfigureAwait(false);
        foreach (var (env, (staged, _)) in _staged)
        {
            var confirmed = assembled.TryGetValue(staged.Full.Uri, out var made)
                ? string.Equals(StagedCheckImage.Digest(made.BaseConfigDigest), staged.BaseId, StringComparison.Ordinal)
                : await StagedCheckImage.LocalImageAsync(_runtime, staged.Full.Uri, cancellationToken).ConfigureAwait(false) is { } built
                    && built.Layers.Count > staged.BaseLayers.Count && built.Layers.Take(staged.BaseLayers.Count).SequenceEqual(staged.BaseLayers, StringComparer.Ordinal);
            if (confirmed && staged.SourcesUnchanged())
            {
                _confirmed.Add(env);
            }
        }
    }

    /// <summary>Checks every Python task: the confirmed staged answers, the rest described in the deployed image.</summary>
    public async Task CheckAsync(IReadOnlyList<Deployment> deployments, string? rootDir)
    {
        if (_deployed is null)
        {
            var context = new PythonExecutorContext("deploy-check", _sandbox, new PythonBundle("", null, null, _sandbox), _config, null);
            _deployed = new ContainerPythonExecutor(context, new DeployedImageSource(deployments, _config));
        }

        // The limit counts from here (not from the start): making the image may take long; the check itself may not.
        var started = TimeProvider.System.GetTimestamp();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        limit.CancelAfter(_timeout);
        try
        {
            await PythonTaskChecker.CheckAsync(this, Tasks, rootDir, limit.Token).ConfigureAwait(false);
            _waited = TimeProvider.System.GetElapsedTime(started);
            await RememberAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !_stop.IsCancellationRequested)
        {
            throw TimedOut();
        }
        catch (TimeoutException)
        {
            throw TimedOut();
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<PythonFunctionInfo>> DescribeAsync(TaskEnvironment environment, IReadOnlyList<PythonTaskReference> tasks, CancellationToken cancellationToken)
    {
        if (_confirmed.Contains(environment) && _staged.TryGetValue(environment, out var staged)
            && await staged.Describe.ConfigureAwait(false) is { } infos && infos.Count == tasks.Count
            && infos.Select(i => i.Task).SequenceEqual(tasks.Select(t => t.ToString()), StringComparer.Ordinal))
        {
            return infos;
        }

        return await _deployed!.DescribeAsync(environment, tasks, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<TaskReply> ExecuteAsync(PythonTaskRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("a deploy check only describes tasks");

    /// <summary>Stops what still runs, waits for the check's containers to be removed (bounded), deletes the sandbox.</summary>
    public async ValueTask DisposeAsync()
    {
        var started = TimeProvider.System.GetTimestamp();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _preparing.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        foreach (var (_, describe) in _staged.Values)
        {
            await describe.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }

        if (_deployed is not null)
        {
            await _deployed.DisposeAsync().ConfigureAwait(false);
        }

        var failures = await _launcher.DrainAsync().ConfigureAwait(false);
        await _launcher.WarnAsync("deploy-check", failures).ConfigureAwait(false);
        _stop.Dispose();
        RunSandbox.TryDelete(_sandbox);
        Timed?.Invoke(new DeployCheckTimings(_prepare, _stagedDescribe, _waited, TimeProvider.System.GetElapsedTime(started), _confirmed.Count)
        {
            Environments = Tasks.Select(t => t.Environment.Name).Distinct().ToArray(),
            Avoided = _avoided.Select(e => e.Name).ToArray(),
        });
    }

    /// <summary>
    /// Prepares each environment's staged image, digests every tar with one host python3, then per environment: the stored
    /// answers when its key has them (no container), else the check's container on the staged image.
    /// </summary>
    private async Task PrepareAsync(IReadOnlyList<(TaskEnvironment Env, ResolvedImage Image)> resolved, ImageResolveOptions options, CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        var staging = new List<(TaskEnvironment Env, StagedCheckImage Staged)>();
        foreach (var (env, image) in resolved.DistinctBy(r => r.Env))
        {
            if (env.Tasks.Any(t => t.Kind == TaskKind.Python) && StagedCheckImage.TryStage(env.Image, image, options, _sandbox, cancellationToken) is { } staged)
            {
                staging.Add((env, staged));
            }
        }

        // One host python3 digests every tar while local storage is asked for the bases.
        var digesting = staging.Count == 0
            ? Task.FromResult<InterfaceDigest?>(null)
            : InterfaceDigest.ComputeAsync(_config.Python, staging.Select(p => p.Staged.CodeTar).ToArray(), cancellationToken);
        var locals = await Task.WhenAll(staging.Select(p => p.Staged.WithLocalBaseAsync(_runtime, cancellationToken))).ConfigureAwait(false);
        var digested = await digesting.ConfigureAwait(false);
        var prepared = new List<(TaskEnvironment Env, StagedCheckImage Staged)>();
        var digests = new List<string?>();
        for (var i = 0; i < staging.Count; i++)
        {
            if (locals[i] is { } local)
            {
                prepared.Add((staging[i].Env, local));
                digests.Add(digested?.Digests[i]);
            }
        }

        var digest = digested is null ? null : digested with { Digests = digests };
        _hostPython = digest?.Python;
        for (var i = 0; i < prepared.Count; i++)
        {
            var (env, staged) = prepared[i];
            var references = References(Tasks.Where(t => t.Environment == env));
            if (digest?.Digests[i] is { } interfaceDigest)
            {
                var key = DeployCheckCache.Key(
                    staged, interfaceDigest, digest.Python, EnvironmentOf(env, staged), PythonImportPaths.For(env.Image, _config.RootDir), references.Select(r => r.ToString()));
                _keys[env] = key;
                if (_cache.TryRead(key, digest.Python, references.Select(r => r.ToString()).ToArray()) is { } stored)
                {
                    _avoided.Add(env);
                    _staged[env] = (staged, Task.FromResult<IReadOnlyList<PythonFunctionInfo>?>(stored));
                    continue;
                }
            }

            _staged[env] = (staged, DescribeStagedAsync(env, staged, references));
        }

        _prepare = TimeProvider.System.GetElapsedTime(started);
    }

    /// <summary>
    /// After every task passed: stores the answers of each confirmed environment whose staged container gave them, when
    /// its Python is the host's (the host compiled the code for the key) — a failed check never gets here.
    /// </summary>
    private async Task RememberAsync()
    {
        foreach (var env in _confirmed)
        {
            if (!_avoided.Contains(env) && _keys.TryGetValue(env, out var key) && _answered.TryGetValue(env, out var answer)
                && string.Equals(answer.Python, _hostPython, StringComparison.Ordinal))
            {
                // Not cancellable: a few kilobytes, and a deploy whose check passed is not failed by its cache.
                await _cache.WriteAsync(key, answer.Python, answer.Json, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The references the checker asks for, in its order: one per function (<see cref="PythonTaskChecker.CheckAsync"/>).</summary>
    private static PythonTaskReference[] References(IEnumerable<TaskDefinition> tasks) =>
        tasks.Distinct().GroupBy(t => t.Name).Select(g => g.First().Python!).ToArray();

    /// <summary>
    /// The describe on the staged image: null when the container could not answer (the deployed image is asked instead),
    /// cancelled when the check is stopped or timed out.
    /// </summary>
    private async Task<IReadOnlyList<PythonFunctionInfo>?> DescribeStagedAsync(TaskEnvironment environment, StagedCheckImage staged, PythonTaskReference[] references)
    {
        await Task.Yield();
        try
        {
            return await RunStagedAsync(environment, staged, references).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or TimeoutException))
        {
            // The staged container could not answer: the deployed image is asked, and any failure is reported from there.
            return null;
        }
    }

    private async Task<IReadOnlyList<PythonFunctionInfo>?> RunStagedAsync(TaskEnvironment environment, StagedCheckImage staged, PythonTaskReference[] references)
    {
        var n = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
        var ioDirectory = Path.Combine(_launcher.IoRoot, n);
        Directory.CreateDirectory(ioDirectory);
        var image = new ContainerImage(staged.BaseId, staged.Full.PythonExecutable, staged.Full.RunnerPath, staged.Full.CodeDirectory, InsecureRegistry: false)
        {
            ImportPaths = PythonImportPaths.For(environment.Image, _config.RootDir),
        };
        var env = EnvironmentOf(environment, staged);

        var describe = RunnerProtocol.DescribeArguments(references.Select(r => r.ToString()));
        var code = File.OpenRead(staged.CodeTar);
        await using var codeDisposal = code.ConfigureAwait(false);
        var spec = new ContainerRunSpec(
            _runtime, ContainerLauncher.ContainerName("deploy-check", n), image, environment.Resources, ioDirectory, null, null, describe,
            ContainerLabels.For("deploy-check", "describe", environment.Name), env)
        {
            Command = [staged.Full.PythonExecutable, "-c", Unpack, staged.WorkingDirectory ?? "", .. RunnerCommand.For(image, null, null, describe)],
            StandardInput = code,
            NoNetwork = true,
            RemoveOnExit = true,
        };
        var launched = TimeProvider.System.GetTimestamp();
        _launcher.RecordRuntime(_runtime);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        limit.CancelAfter(_timeout);
        CliResult result;
        try
        {
            result = await CliProcess.RunAsync(_runtime, spec.Arguments(), standardInput: code, cancellationToken: limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Killing the runtime's client does not stop the container: stop it, then remove it (bounded by the runtime's own stop timeout).
            await CliProcess.RunAsync(_runtime, ["stop", "--time", "2", spec.Name], cancellationToken: CancellationToken.None).ConfigureAwait(false);
            await CliProcess.RunAsync(_runtime, ["rm", "--force", "--volumes", spec.Name], cancellationToken: CancellationToken.None).ConfigureAwait(false);
            if (!_stop.IsCancellationRequested)
            {
                throw new TimeoutException("the staged check container did not answer in time");
            }

            throw;
        }

        _stagedDescribe = TimeProvider.System.GetElapsedTime(launched);
        var json = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (result.ExitCode != 0 || json is null || !json.StartsWith('['))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(json);
        var infos = RunnerProtocol.ParseDescribe(doc.RootElement);
        var python = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).FirstOrDefault(l => l.StartsWith(PythonMark, StringComparison.Ordinal));
        if (python is not null)
        {
            _answered[environment] = (python[PythonMark.Length..], json);
        }

        return infos;
    }

    /// <summary>The check container's environment variables: the image's <c>ENV</c> above the base, then the environment's own.</summary>
    private static Dictionary<string, string> EnvironmentOf(TaskEnvironment environment, StagedCheckImage staged)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in staged.Env.Concat(environment.EnvVars))
        {
            env[name] = value;
        }

        return env;
    }

    private FlyteSharpException TimedOut() =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"the check of the Python tasks in their image did not finish within {_timeout.TotalSeconds:0.#} s ({string.Join(", ", Tasks.Select(t => t.Name))}); nothing was recorded"),
            fix: "a task module that blocks at import (waits for input, a lock, the network) must not: move that work into the function; then deploy again");
}
