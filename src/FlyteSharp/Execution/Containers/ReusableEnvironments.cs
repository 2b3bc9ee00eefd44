using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Files;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// Runs the actions of environments with a <see cref="ReusePolicy"/> on warm containers (<see cref="ReplicaPool{TReplica}"/>):
/// one pool per environment for the run, or a process-wide one (<see cref="ReplicaPools"/>) for
/// <see cref="ReuseScope.Global"/>. Each call is a serve request on a replica's socket (<see cref="ContainerReplica.CallAsync"/>); a replica that
/// serves another bundle digest is reloaded (new interpreter, same container) first.
/// </summary>
internal sealed class ReusableEnvironments : IAsyncDisposable
{
    private readonly PythonExecutorContext _context;
    private readonly TimeProvider _time;
    private readonly ContainerTeardowns _teardowns;
    private readonly Func<CancellationToken, Task<ContainerBundleSource?>> _bundleSource;
    private readonly Func<string, string, CancellationToken, Task<string?>> _authFile;
    private static readonly Lock LiveGate = new();
    private static readonly HashSet<ReusableEnvironments> Live = [];
    private static bool _exitHooked;
    private readonly ConcurrentDictionary<string, ReplicaPool<ContainerReplica>> _runPools = new(StringComparer.Ordinal);
    private int _sequence;
    private int _disposed;

    /// <param name="context">The run.</param>
    /// <param name="time">The clock (idle TTLs).</param>
    /// <param name="teardowns">Where the run's container removals go (drained before the run completes).</param>
    /// <param name="bundleSource">The run's bundle as a container reaches it (uploaded on first use).</param>
    /// <param name="authFile">Writes the pull credentials for a private store's bundle (host, repository), or returns null.</param>
    public ReusableEnvironments(PythonExecutorContext context, TimeProvider time, ContainerTeardowns teardowns,
        Func<CancellationToken, Task<ContainerBundleSource?>> bundleSource, Func<string, string, CancellationToken, Task<string?>> authFile)
    {
        _context = context;
        _time = time;
        _teardowns = teardowns;
        _bundleSource = bundleSource;
        _authFile = authFile;
    }

    /// <summary>Raised after each call with where its time went (used by bench/).</summary>
    internal static event Action<ReplicaCallTimings>? CallTimed;

    /// <summary>Runs <paramref name="request"/> (its environment has a reuse policy) on a replica of <paramref name="image"/>.</summary>
    public async Task<TaskReply> ExecuteAsync(PythonTaskRequest request, ContainerImage image, string runtime, CancellationToken cancellationToken)
    {
        var environment = request.Environment;
        var policy = environment.Reuse ?? throw new ArgumentException("the environment has no reuse policy", nameof(request));
        var started = _time.GetTimestamp();

        // Secrets first: a missing one fails the action before any container starts.
        var secrets = _context.Secrets.Resolve(environment);
        var bundle = image.CodeDirectory is null ? await _bundleSource(cancellationToken).ConfigureAwait(false) : null;
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Track();
        var pool = policy.Scope == ReuseScope.Global
            ? ReplicaPools.Get(GlobalKey(environment, image, runtime, bundle, secrets), policy, _time)
            : _runPools.GetOrAdd(environment.Name, _ => new ReplicaPool<ContainerReplica>(policy, _time));
        var (replica, fresh) = await pool.AcquireAsync(ct => StartAsync(environment, image, runtime, bundle, secrets, policy.Scope, ct), cancellationToken).ConfigureAwait(false);
        var acquired = _time.GetElapsedTime(started);
        var healthy = false;
        try
        {
            var reloaded = TimeSpan.Zero;
            if (bundle is not null && replica.Digest != _context.Bundle.Digest)
            {
                var reloadStarted = _time.GetTimestamp();
                try
                {
                    // A shared replica may have started under another run's credentials, since expired.
                    await BundleCredentialFiles.RefreshAsync(replica.BundleAuthFile,
                        bundle.Registry is { } registry ? () => _authFile(registry.Host, registry.Repository, cancellationToken) : null).ConfigureAwait(false);

                    await replica.ReloadAsync(bundle, _context.Bundle.Digest, image.ImportPaths, cancellationToken).ConfigureAwait(false);
                }
                catch (FlyteSharpException)
                {
                    healthy = !replica.IsBroken; // refused: the old code still serves, the replica stays usable
                    throw;
                }

                reloaded = _time.GetElapsedTime(reloadStarted);
            }

            request.Placed?.Invoke(image.Uri, $"{runtime} container {replica.Name} (reusable, call {(replica.Calls + 1).ToString(CultureInfo.InvariantCulture)}; {Environment.MachineName})");
            var callStarted = _time.GetTimestamp();
            var result = await replica.CallAsync(request, _context.Config.InlineOutputLimit, cancellationToken).ConfigureAwait(false);
            if (result.OutputFile is { } file)
            {
                result = result with { OutputFile = TakeOutputFile(file, _context.SandboxDirectory) };
            }

            healthy = true;

            CallTimed?.Invoke(new ReplicaCallTimings(environment.Name, replica.Name, fresh, acquired, reloaded, _time.GetElapsedTime(callStarted), _time.GetElapsedTime(started)));
            return result;
        }
        catch (PythonWorkerDiedException ex) when (ex.ExitCode == 137 && environment.Resources.MemoryBytes is not null)
        {
            // As for single-shot containers: a SIGKILL we did not send, under a memory limit, is the limit.
            throw new ContainerOutOfMemoryException(request.Task.ToString(), environment.Name, environment.Resources.Memory);
        }
        finally
        {
            pool.Release(replica, healthy);
        }
    }

    /// <summary>Removes this run's replicas (the shared ones stay) and waits until each container's removal has started.</summary>
    public async ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _disposed, 1);
        foreach (var pool in _runPools.Values)
        {
            await pool.DisposeAsync().ConfigureAwait(false);
        }

        lock (LiveGate)
        {
            Live.Remove(this);
        }
    }

    /// <summary>
    /// Removes the replicas of every run not yet disposed and waits for their containers' removal: what a process that
    /// exits right after <c>GetOutputAsync()</c> does on exit (bounded), so its replicas are not left behind.
    /// </summary>
    /// <returns>What could not be removed.</returns>
    internal static async Task<IReadOnlyList<string>> DisposeAllLiveAsync()
    {
        ReusableEnvironments[] live;
        lock (LiveGate)
        {
            live = [.. Live];
        }

        var failures = new List<string>();
        foreach (var reusable in live)
        {
            await reusable.DisposeAsync().ConfigureAwait(false);
            failures.AddRange(await reusable._teardowns.DrainAsync().ConfigureAwait(false));
        }

        return failures;
    }

    private void Track()
    {
        lock (LiveGate)
        {
            Live.Add(this);
            if (!_exitHooked)
            {
                _exitHooked = true;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeAllLiveAsync().Wait(ContainerTeardowns.Limit);
            }
        }
    }

    private async Task<ContainerReplica> StartAsync(TaskEnvironment environment, ContainerImage image, string runtime, ContainerBundleSource? bundle,
        IReadOnlyList<ResolvedSecret> secrets, ReuseScope scope, CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _sequence);
        var name = ReplicaName(_context.RunName, environment.Name);

        // A shared replica outlives this run's sandbox: its files live under the home instead.
        var hostDirectory = scope == ReuseScope.Global
            ? Path.Combine(_context.Config.Home, "replicas", name)
            : Path.Combine(_context.SandboxDirectory, "containers", "replica-" + n.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(hostDirectory);
        var authFile = bundle?.Registry is { } registry ? await _authFile(registry.Host, registry.Repository, cancellationToken).ConfigureAwait(false) : null;
        if (authFile is not null && scope == ReuseScope.Global)
        {
            authFile = BundleCredentialFiles.KeepForSharedReplica(authFile, _context.Config.Home, name);
        }

        var secretDirectory = secrets.Count == 0 ? null : SecretFiles.CreatePrivateDirectory(_context.SandboxDirectory);
        try
        {
            var (secretArguments, secretMounts) = ContainerPythonExecutor.SecretDelivery(secrets, secretDirectory);

            // The last --bundle-dir wins: each digest gets a directory of its own, so a reload never unpacks over code in use.
            string[] bundleDirectory = bundle is null ? [] : ["--bundle-dir", ContainerReplica.BundleDirectoryFor(_context.Bundle.Digest)];
            var spec = new ContainerRunSpec(
                runtime, name, image, environment.Resources, hostDirectory, bundle, bundle is null ? null : _context.Bundle.Digest,
                [.. bundleDirectory, .. secretArguments, "--serve", .. ContainerReplica.SocketArguments],
                ContainerLabels.For(_context.RunName, "reusable", environment.Name),
                environment.EnvVars, secretMounts, authFile);
            var teardowns = scope == ReuseScope.Global ? ReplicaPools.Teardowns : _teardowns;
            return await ContainerReplica.StartAsync(spec, secretDirectory, teardowns, MaxLineBytes(_context.Config.InlineOutputLimit), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (secretDirectory is not null)
            {
                SecretFiles.Delete(secretDirectory);
            }

            if (authFile is not null)
            {
                File.Delete(authFile);
            }

            // A container that started and failed (a refused bundle) is removed like any other; removing a missing one is harmless.
            _teardowns.Start(runtime, name, null, running: true);
            throw;
        }
    }

    /// <summary>
    /// The longest line a replica may send: an inline output (at most the inline limit; a larger one comes as a file) plus
    /// an error's message and traceback, which the runner cuts to 256 Ki characters each (up to 12 bytes per character
    /// once JSON-escaped).
    /// </summary>
    internal static int MaxLineBytes(long inlineOutputLimit) => (int)Math.Min(int.MaxValue - 64, inlineOutputLimit + (8L << 20));

    /// <summary>
    /// What must be equal for two runs to share a replica: everything the container was started with except the code
    /// (which a reload changes) — runtime, image, resources, variables, the secrets' values, the store mounts, the policy.
    /// </summary>
    internal static string GlobalKey(TaskEnvironment environment, ContainerImage image, string runtime, ContainerBundleSource? bundle, IReadOnlyList<ResolvedSecret> secrets)
    {
        var key = ReplicaKey.For(runtime, environment, image);
        foreach (var secret in secrets)
        {
            key.Add(secret.Secret.EnvironmentVariable ?? secret.Secret.FilePath).Add(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret.Value))));
        }

        foreach (var (host, container) in bundle?.Mounts ?? [])
        {
            key.Add(host).Add(container);
        }

        return key.Add(bundle?.HostNetwork.ToString()).Add(bundle?.Registry?.ToString()).Digest();
    }

    private static string ReplicaName(string run, string environment)
    {
        var safe = new string(run.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());
        if (safe.Length > 40)
        {
            safe = safe[..40];
        }

        return $"flytesharp-{safe}-{environment}-r{Guid.NewGuid().ToString("N")[..6]}";
    }

    /// <summary>
    /// Moves a large output out of a replica's folder (which goes with the replica) into the run's sandbox and returns its
    /// new path. Task code can write that folder: a file it deleted, moved or replaced is a clear error, never a raw I/O
    /// exception, and the caller retires the replica.
    /// </summary>
    /// <exception cref="FlyteSharpException">The file is missing, cannot be moved, or is not a regular file.</exception>
    internal static string TakeOutputFile(string file, string sandboxDirectory)
    {
        var spill = Path.Combine(sandboxDirectory, "spill");
        Directory.CreateDirectory(spill);
        var moved = Path.Combine(spill, Path.GetFileName(file));
        try
        {
            File.Move(file, moved);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException(
                $"the action's output file in its reusable container is missing or cannot be moved ({ex.GetType().Name})",
                file, fix: "do not delete, move or replace the runner's output file from task code; return the value from the task instead", inner: ex);
        }

        ThrowUnlessRegularFile(moved);
        return moved;
    }

    /// <summary>
    /// The replica's folder is writable by the task's code, so the large output moved out of it may be a symlink (to a host
    /// file) or a FIFO rather than the runner's file. Checked after the move: the spill folder is the driver's own, so
    /// nothing can swap it in between. What is refused is deleted (a symlink's deletion leaves its target alone).
    /// </summary>
    internal static void ThrowUnlessRegularFile(string moved)
    {
        var regular = UnixStat.IsAvailable
            ? UnixStat.TryStat(moved, followLinks: false, out var info) && info.IsRegularFile
            : new FileInfo(moved).LinkTarget is null;
        if (regular)
        {
            return;
        }

        File.Delete(moved);
        throw new FlyteSharpException(
            "the action's output file in its reusable container is not a regular file (a symlink, FIFO, socket or device)",
            moved, fix: "do not create, replace or link the runner's output file from task code; return the value from the task instead");
    }
}
