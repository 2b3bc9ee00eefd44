using FlyteSharp.Processes;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// Container removals that run after an action's result was returned, so the next step of the run does not wait
/// for <c>podman rm</c>. Each removal is bounded by <see cref="Limit"/>; <see cref="DrainAsync"/> awaits them all
/// (the executor's disposal, before the run completes), and a process that exits without disposing its runs
/// still waits for them (bounded) so stopped containers are not left behind.
/// </summary>
internal sealed class ContainerTeardowns
{
    /// <summary>How long one removal may take before its <c>rm</c> is killed.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static readonly Lock LiveGate = new();
    private static readonly HashSet<ContainerTeardowns> Live = [];
    private static bool _exitHooked;

    private readonly Lock _gate = new();
    private readonly HashSet<Task> _pending = [];
    private readonly List<string> _failures = [];
    private readonly List<string> _lateExits = [];

    /// <summary>Removals started and not yet finished.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Starts removing container <paramref name="name"/> (and deleting <paramref name="authFile"/>) without waiting.</summary>
    /// <param name="runtime">The container runtime.</param>
    /// <param name="name">The container.</param>
    /// <param name="authFile">A host file to delete once the container is gone, or null.</param>
    /// <param name="running">The container may still run and need not stop gracefully (podman: no stop timeout).</param>
    public void Start(string runtime, string name, string? authFile, bool running = false)
    {
        Track(Task.Run(() => RemoveAsync(runtime, name, authFile, running)));
    }

    private void Track(Task removal)
    {
        lock (LiveGate)
        {
            Live.Add(this);
            if (!_exitHooked)
            {
                _exitHooked = true;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DrainAllOnExit();
            }
        }

        lock (_gate)
        {
            _pending.Add(removal);
        }

        _ = removal.ContinueWith(
            t =>
            {
                lock (_gate)
                {
                    _pending.Remove(t);
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// For a container whose successful result was already returned: waits for its runtime client to exit (<paramref name="exit"/>),
    /// notes a failed exit (<see cref="LateExits"/>: the result stands, the failure is reported), then removes it. Bounded like
    /// <see cref="Start"/>: a container still running after <see cref="Limit"/> is removed by force.
    /// </summary>
    /// <param name="exit">The runtime client's <c>run</c>, still going.</param>
    /// <param name="runtime">The container runtime.</param>
    /// <param name="name">The container.</param>
    /// <param name="authFile">A host file to delete once the container is gone, or null.</param>
    /// <param name="memoryLimited">The container has a memory limit (exit code 137 then reads as that limit).</param>
    public void StartAfterExit(Task<CliResult> exit, string runtime, string name, string? authFile, bool memoryLimited) =>
        Track(Task.Run(async () =>
        {
            var running = false;
            try
            {
                var result = await exit.WaitAsync(Limit).ConfigureAwait(false);
                if (result.ExitCode != 0)
                {
                    var oom = result.ExitCode == 137 && await OutOfMemoryAsync(runtime, name, memoryLimited).ConfigureAwait(false);
                    Note($"container {name} exited with code {result.ExitCode}{(oom ? " (killed by its memory limit)" : "")} after it had written a " +
                        $"successful result; the action's result stands{(result.StandardError.Length > 0 ? ": " + CliProcess.Tail(result.StandardError, 3) : "")}");
                }
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or FlyteSharpException)
            {
                // Cancelled, or still running after the limit: removed by force below.
                running = true;
            }

            await RemoveAsync(runtime, name, authFile, running).ConfigureAwait(false);
        }));

    /// <summary>Whether a container that exited with code 137 was killed by its memory limit.</summary>
    /// <param name="runtime">The container runtime.</param>
    /// <param name="name">The container (not yet removed).</param>
    /// <param name="memoryLimited">The container has a memory limit.</param>
    public static async Task<bool> OutOfMemoryAsync(string runtime, string name, bool memoryLimited)
    {
        var inspect = await CliProcess.RunAsync(runtime, ["inspect", "--format", "{{.State.OOMKilled}}", name], cancellationToken: CancellationToken.None).ConfigureAwait(false);
        // cgroup v1 hosts do not always set OOMKilled; a SIGKILL we did not send, under a memory limit, is the limit.
        return inspect.StandardOutput.Trim() == "true" || memoryLimited;
    }

    /// <summary>Containers that failed after their successful result was returned (one line each), for the run's warnings.</summary>
    public IReadOnlyList<string> LateExits
    {
        get
        {
            lock (_gate)
            {
                return [.. _lateExits];
            }
        }
    }

    /// <summary>Waits until every removal started so far has finished (each is bounded by <see cref="Limit"/>).</summary>
    /// <returns>What could not be removed, one line per container (empty when all went well).</returns>
    public async Task<IReadOnlyList<string>> DrainAsync()
    {
        while (true)
        {
            Task[] pending;
            lock (_gate)
            {
                pending = [.. _pending.Where(t => !t.IsCompleted)];
            }

            if (pending.Length == 0)
            {
                break;
            }

            await Task.WhenAll(pending).ConfigureAwait(false);
        }

        lock (LiveGate)
        {
            Live.Remove(this);
        }

        lock (_gate)
        {
            return [.. _failures];
        }
    }

    private static void DrainAllOnExit()
    {
        ContainerTeardowns[] live;
        lock (LiveGate)
        {
            live = [.. Live];
        }

        // Bounded: each removal already is; this only keeps the process alive until they end.
        Task.WhenAll(live.Select(t => t.DrainAsync())).Wait(Limit);
    }

    private async Task RemoveAsync(string runtime, string name, string? authFile, bool running)
    {
        try
        {
            using var limit = new CancellationTokenSource(Limit);
            IReadOnlyList<string> args = running && runtime == "podman" ? ["rm", "--force", "--time", "0", "--volumes", name] : ["rm", "--force", "--volumes", name];
            var result = await CliProcess.RunAsync(runtime, args, cancellationToken: limit.Token).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                Fail($"{runtime} rm {name} failed (exit code {result.ExitCode}): {CliProcess.Tail(result.Combined, 3)}");
            }
        }
        catch (OperationCanceledException)
        {
            Fail($"{runtime} rm {name} did not finish within {Limit.TotalSeconds:0} s");
        }
        catch (FlyteSharpException ex)
        {
            Fail($"{runtime} rm {name}: {ex.Message}");
        }
        finally
        {
            if (authFile is not null)
            {
                File.Delete(authFile);
            }
        }
    }

    private void Note(string line)
    {
        lock (_gate)
        {
            _lateExits.Add(line);
        }
    }

    private void Fail(string line)
    {
        lock (_gate)
        {
            _failures.Add(line);
        }
    }
}
