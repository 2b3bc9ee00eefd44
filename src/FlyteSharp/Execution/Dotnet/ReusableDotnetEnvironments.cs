using System.Collections.Concurrent;
using System.Globalization;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// Runs the C# actions of environments with a <see cref="ReusePolicy"/> on warm containers of the environment's .NET
/// image: the same pool as Python replicas (<see cref="ReplicaPool{TReplica}"/>: at most <see cref="ReusePolicy.Replicas"/>,
/// idle TTL, a broken replica never handed out again), one pool per environment for the run (or, for
/// <see cref="ReuseScope.Global"/>, one per process and container settings, shared by runs), each replica a
/// <see cref="DotnetReplica"/> serving one call at a time through the same serve call as Python replicas
/// (<see cref="ServeCall"/>). A replica serving another bundle digest is reloaded first (new load context, same
/// container). Nested calls reach the run's controller API: its socket and token are mounted when the replica starts
/// (a shared replica gets the calling run's per call), and each call names its action, registered as a parent for the time of the call.
/// </summary>
internal sealed partial class ReusableDotnetEnvironments : IAsyncDisposable
{
    private static readonly Lock LiveGate = new();
    private static readonly HashSet<ReusableDotnetEnvironments> Live = [];
    private static bool _exitHooked;
    private static readonly ConcurrentDictionary<string, ReplicaPool<DotnetReplica>> GlobalPools = new(StringComparer.Ordinal);
    private static int _globalExitHooked;
    private readonly DotnetExecutorContext _context;
    private readonly TimeProvider _time;
    private readonly ContainerTeardowns _teardowns;
    private readonly Func<string, string, string, string, CancellationToken, Task<string?>> _authFile;
    private readonly ConcurrentDictionary<string, ReplicaPool<DotnetReplica>> _pools = new(StringComparer.Ordinal);
    private int _sequence;
    private int _disposed;

    /// <param name="context">The run.</param>
    /// <param name="time">The clock (idle TTLs).</param>
    /// <param name="teardowns">Where the replicas' container removals go (drained before the run completes).</param>
    /// <param name="authFile">Writes the pull credentials for a private store's bundle (host, repository, digest, name), or returns null.</param>
    public ReusableDotnetEnvironments(DotnetExecutorContext context, TimeProvider time, ContainerTeardowns teardowns,
        Func<string, string, string, string, CancellationToken, Task<string?>> authFile)
    {
        _context = context;
        _time = time;
        _teardowns = teardowns;
        _authFile = authFile;
    }

    /// <summary>Raised after each call with where its time went (used by bench/).</summary>
    internal static event Action<ReplicaCallTimings>? CallTimed;

    /// <summary>
    /// Runs <paramref name="request"/> (its environment has a reuse policy) on a replica of <paramref name="image"/>; null
    /// when it was called from a replica of the same environment and none is free (then it needs a container of its own:
    /// waiting could be forever, its callers hold the replicas).
    /// </summary>
    public async Task<TaskReply?> ExecuteAsync(DotnetTaskRequest request, DotnetTaskCode code, ContainerBundleSource? bundle, ContainerImage image, string runtime,
        IReadOnlyList<ResolvedSecret> secrets, CancellationToken cancellationToken)
    {
        var task = request.Task;
        var environment = task.Environment;
        var policy = environment.Reuse ?? throw new ArgumentException("the environment has no reuse policy", nameof(request));
        var started = _time.GetTimestamp();
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Track();
        var wanted = code.BundleDigest ?? DotnetReplica.AppCode;
        var global = policy.Scope == ReuseScope.Global;
        var pool = global
            ? GlobalPools.GetOrAdd("dotnet\n" + ReusableEnvironments.GlobalKey(environment, image, runtime, bundle, secrets), _ => new ReplicaPool<DotnetReplica>(policy, _time))
            : _pools.GetOrAdd(environment.Name, _ => new ReplicaPool<DotnetReplica>(policy, _time));
        if (global)
        {
            HookProcessExit();
        }

        var controller = request.Controller?.Invoke();
        string? controllerLink = null;
        try
        {
            // A shared replica outlives the run whose controller it could have mounted: it gets each run's per call instead.
            Task<DotnetReplica> Start(CancellationToken ct) => StartAsync(environment, image, runtime, code, bundle, secrets, global ? null : controller, global, ct);
            var taken = request.CalledFromSameEnvironment
                ? await pool.TryAcquireAsync(Start, cancellationToken).ConfigureAwait(false)
                : await pool.AcquireAsync(Start, cancellationToken).ConfigureAwait(false);
            if (taken is not { } acquiredReplica)
            {
                return null;
            }

            var (replica, fresh) = acquiredReplica;
            var acquired = _time.GetElapsedTime(started);
            var healthy = false;
            try
            {
                var reloaded = TimeSpan.Zero;
                if (replica.Code != wanted)
                {
                    var reloadStarted = _time.GetTimestamp();
                    try
                    {
                        // A shared replica may have started under another run's credentials, since expired.
                        var name = "dotnet-reload-" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
                        await BundleCredentialFiles.RefreshAsync(replica.BundleAuthFile, bundle?.Registry is { } registry && code.BundleDigest is { } digest
                            ? () => _authFile(registry.Host, registry.Repository, digest, name, cancellationToken)
                            : null).ConfigureAwait(false);

                        await replica.ReloadAsync(bundle, code.BundleDigest, cancellationToken).ConfigureAwait(false);
                    }
                    catch (FlyteSharpException)
                    {
                        healthy = true; // refused: the old code still serves, the replica stays usable
                        throw;
                    }

                    reloaded = _time.GetElapsedTime(reloadStarted);
                }

                var perCallController = global && controller is not null ? LinkController(controller, replica, out controllerLink) : null;
                request.Placed(image.Uri, $"{runtime} container {replica.Name} (reusable, call {(replica.Calls + 1).ToString(CultureInfo.InvariantCulture)}; {Environment.MachineName})");
                var callStarted = _time.GetTimestamp();
                var call = new ServeCall.Call(task.Name, request.ActionId, request.InputsJson, request.InputsFile, request.Log);
                var result = await ServeCall.RunAsync(call, replica.HostDirectory, ContainerRunSpec.IoMount, _context.Config.InlineOutputLimit,
                    message =>
                    {
                        message["assembly"] = code.AssemblyFile;
                        message["run"] = _context.RunName;
                        message["action"] = request.ActionId;
                        if (perCallController is { } access)
                        {
                            message["controller"] = access.Address;
                            message["controller_token"] = access.Token;
                        }
                        return replica.SendAsync(message, request.Log, cancellationToken);
                    }, cancellationToken).ConfigureAwait(false);
                if (result.OutputFile is { } file)
                {
                    result = result with { OutputFile = ReusableEnvironments.TakeOutputFile(file, _context.SandboxDirectory) };
                }

                healthy = true;

                if (result.Error?.Type == typeof(OutOfMemoryException).FullName && environment.Resources.MemoryBytes is not null)
                {
                    // The runtime's GC heap limit derives from the container's: hitting it is the same out-of-memory, and the
                    // replica's heap is suspect afterwards.
                    healthy = false;
                    throw new ContainerOutOfMemoryException(task.Name, environment.Name, environment.Resources.Memory);
                }

                CallTimed?.Invoke(new ReplicaCallTimings(environment.Name, replica.Name, fresh, acquired, reloaded, _time.GetElapsedTime(callStarted), _time.GetElapsedTime(started)));
                return result;
            }
            catch (PythonWorkerDiedException ex) when (ex.ExitCode == 137 && environment.Resources.MemoryBytes is not null)
            {
                // As for single-shot containers: a SIGKILL we did not send, under a memory limit, is the limit.
                throw new ContainerOutOfMemoryException(task.Name, environment.Name, environment.Resources.Memory);
            }
            catch (PythonWorkerDiedException ex)
            {
                // The task's retries run it again, on a new replica (this one is removed on release).
                throw new DotnetTaskException(task.Name, "ProcessExited",
                    $"the .NET worker in reusable container {replica.Name} exited with code {ex.ExitCode.ToString(CultureInfo.InvariantCulture)} while running the task",
                    Processes.CliProcess.Tail(ex.Message, 20));
            }
            finally
            {
                pool.Release(replica, healthy);
            }
        }
        finally
        {
            controller?.Registration.Dispose();
            if (controllerLink is not null)
            {
                File.Delete(controllerLink);
            }
        }
    }

    /// <summary>Removes every shared (<see cref="ReuseScope.Global"/>) .NET replica of this process and waits until the containers are gone.</summary>
    /// <returns>What could not be removed, one line per container.</returns>
    internal static async Task<IReadOnlyList<string>> DisposeGlobalAsync()
    {
        foreach (var key in GlobalPools.Keys.ToArray())
        {
            if (GlobalPools.TryRemove(key, out var pool))
            {
                await pool.DisposeAsync().ConfigureAwait(false);
            }
        }

        return await ReplicaPools.Teardowns.DrainAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The run's controller socket as a shared replica reaches it for one call: a hard link in the replica's mounted folder
    /// (the same socket, a name the container can open), with the run's token carried in the request itself. Null, and no
    /// nested calls for this call, when the link cannot be made (the folders on different file systems).
    /// </summary>
    private static (string Address, string Token)? LinkController(DotnetControllerAccess access, DotnetReplica replica, out string? link)
    {
        link = null;
        var socket = access.Mounts.FirstOrDefault(m => m.Value == FlyteSharp.Controller.ControllerProtocol.ContainerSocketPath).Key;
        var tokenFile = access.Mounts.FirstOrDefault(m => m.Value == FlyteSharp.Controller.ControllerProtocol.ContainerTokenPath).Key;
        if (socket is null || tokenFile is null || OperatingSystem.IsWindows())
        {
            return null;
        }

        var name = "controller-" + Guid.NewGuid().ToString("N")[..8] + ".sock";
        var path = Path.Combine(replica.HostDirectory, name);
        if (HardLink(socket, path) != 0)
        {
            return null;
        }

        link = path;
        return ("unix:" + ContainerRunSpec.IoMount + "/" + name, File.ReadAllText(tokenFile).Trim());
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "link", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
    private static partial int HardLink(string existing, string link);

    private static void HookProcessExit()
    {
        if (Interlocked.Exchange(ref _globalExitHooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeGlobalAsync().Wait(ContainerTeardowns.Limit);
        }
    }

    /// <summary>Removes this run's replicas and waits until each container's removal has started.</summary>
    public async ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _disposed, 1);
        foreach (var pool in _pools.Values)
        {
            await pool.DisposeAsync().ConfigureAwait(false);
        }

        lock (LiveGate)
        {
            Live.Remove(this);
        }
    }

    /// <summary>
    /// What a process that exits right after <c>GetOutputAsync()</c> does on exit (bounded): the replicas of every run not
    /// yet disposed are removed, so none outlives the driver.
    /// </summary>
    private static async Task DisposeAllLiveAsync()
    {
        ReusableDotnetEnvironments[] live;
        lock (LiveGate)
        {
            live = [.. Live];
        }

        foreach (var reusable in live)
        {
            await reusable.DisposeAsync().ConfigureAwait(false);
            await reusable._teardowns.DrainAsync().ConfigureAwait(false);
        }
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

    private async Task<DotnetReplica> StartAsync(TaskEnvironment environment, ContainerImage image, string runtime, DotnetTaskCode code, ContainerBundleSource? bundle,
        IReadOnlyList<ResolvedSecret> secrets, DotnetControllerAccess? controller, bool global, CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
        var name = ContainerLauncher.ContainerName(_context.RunName, "dotnet-r" + n);

        // A shared replica outlives this run's sandbox: its files live under the home instead.
        var hostDirectory = global
            ? Path.Combine(_context.Config.Home, "replicas", name)
            : Path.Combine(_context.SandboxDirectory, "containers", "dotnet-replica-" + n);
        var teardowns = global ? ReplicaPools.Teardowns : _teardowns;
        Directory.CreateDirectory(hostDirectory);
        string? authFile = null;
        string? secretDirectory = null;
        try
        {
            authFile = bundle?.Registry is { } registry
                ? await _authFile(registry.Host, registry.Repository, code.BundleDigest!, "dotnet-replica-" + n, cancellationToken).ConfigureAwait(false)
                : null;
            if (authFile is not null && global)
            {
                authFile = BundleCredentialFiles.KeepForSharedReplica(authFile, _context.Config.Home, name);
            }

            secretDirectory = secrets.Count == 0 ? null : SecretFiles.CreatePrivateDirectory(_context.SandboxDirectory);
            var (secretArguments, secretMounts) = ContainerPythonExecutor.SecretDelivery(secrets, secretDirectory);
            var command = DotnetWorkerCommand.ForServe(bundle?.Source, code.BundleDigest, [.. secretArguments, .. controller?.WorkerArguments ?? [], "--run", _context.RunName],
                authFile is null ? null : RunnerCommand.BundleAuthFile);
            var spec = new ContainerRunSpec(runtime, name, image, environment.Resources, hostDirectory, bundle, code.BundleDigest,
                [], ContainerLabels.For(_context.RunName, "reusable", environment.Name), environment.EnvVars, secretMounts, authFile)
            {
                Command = command,
                ExtraMounts = controller?.Mounts ?? [],
            };
            return await DotnetReplica.StartAsync(spec, code.BundleDigest ?? DotnetReplica.AppCode, secretDirectory, teardowns, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (secretDirectory is not null)
            {
                SecretFiles.Delete(secretDirectory);
            }

            BundleCredentialFiles.Delete(authFile);

            // A container that started and failed (a refused bundle) is removed like any other; removing a missing one is harmless.
            _teardowns.Start(runtime, name, null, running: true);
            throw;
        }
    }
}
