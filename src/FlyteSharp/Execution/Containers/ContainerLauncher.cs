using FlyteSharp.Tasks;
using FlyteSharp.Processes;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// The one engine that runs an action's container, for Python and C# actions alike: <c>podman run</c> of a
/// <see cref="ContainerRunSpec"/> with its output streamed into the run's log, the container stopped and removed when
/// the action is cancelled, a SIGKILL under a memory limit read as out-of-memory before anything else, and the
/// removal of a finished container started off the critical path (<see cref="ContainerTeardowns"/>) and awaited by
/// <see cref="DrainAsync"/> before the run completes. A run can end while containers are still being stopped (a
/// cancelled parent does not wait for its children's containers), so <see cref="DrainAsync"/> first waits for every
/// container still running here.
/// </summary>
internal sealed class ContainerLauncher(string ioRoot, TimeProvider time)
{
    private readonly ContainerTeardowns _teardowns = new();
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _running = [];
    private int _runtimeRecorded;

    /// <summary>The removals of this run's containers, shared with the run's reusable replicas (awaited by <see cref="DrainAsync"/>).</summary>
    public ContainerTeardowns Teardowns => _teardowns;

    /// <summary>The run's per-action I/O folders (<c>{sandbox}/containers</c>), where the abandoned-run sweep looks.</summary>
    public string IoRoot { get; } = ioRoot;

    /// <summary>Runs the container to its end.</summary>
    /// <param name="spec">The container.</param>
    /// <param name="resources">Its resources (a memory limit makes exit code 137 an out-of-memory kill).</param>
    /// <param name="log">Receives each output line (stream, line), or null.</param>
    /// <param name="cancellationToken">Stops and removes the container.</param>
    public async Task<ContainerOutcome> RunAsync(ContainerRunSpec spec, Resources resources, Action<string, string>? log, CancellationToken cancellationToken)
    {
        var run = RunTrackedAsync(spec, resources, log, cancellationToken);
        lock (_gate)
        {
            _running.Add(run);
        }

        try
        {
            return await run.ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _running.Remove(run);
            }
        }
    }

    private async Task<ContainerOutcome> RunTrackedAsync(ContainerRunSpec spec, Resources resources, Action<string, string>? log, CancellationToken cancellationToken)
    {
        RecordRuntime(spec.Runtime);
        var runtime = spec.Runtime;
        var launched = time.GetUtcNow();
        CliResult result;
        try
        {
            result = await CliProcess.RunAsync(runtime, spec.Arguments(), onLine: null, standardInput: null, environment: null,
                onOutput: log is null ? null : (stream, line) => log(stream, line), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Killing the runtime's client does not stop the container: stop it, then remove it.
            await CliProcess.RunAsync(runtime, ["stop", "--time", "2", spec.Name], cancellationToken: CancellationToken.None).ConfigureAwait(false);
            await CliProcess.RunAsync(runtime, ["rm", "--force", "--volumes", spec.Name], cancellationToken: CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var exited = time.GetUtcNow();
        var oom = false;
        try
        {
            // A failed exit reads the container's state before anything else; a clean exit needs no inspect.
            if (result.ExitCode == 137)
            {
                var inspect = await CliProcess.RunAsync(runtime, ["inspect", "--format", "{{.State.OOMKilled}}", spec.Name], cancellationToken: CancellationToken.None).ConfigureAwait(false);
                // cgroup v1 hosts do not always set OOMKilled; a SIGKILL we did not send, under a memory limit, is the limit.
                oom = inspect.StandardOutput.Trim() == "true" || resources.MemoryBytes is not null;
            }
        }
        finally
        {
            // Removal is off the critical path: the result is returned now, the run awaits the removal before it completes.
            _teardowns.Start(runtime, spec.Name, spec.BundleAuthFile);
        }

        var outputs = Path.Combine(spec.IoDirectory, "outputs.json");
        return new ContainerOutcome(result, oom, File.Exists(outputs) ? await File.ReadAllTextAsync(outputs, CancellationToken.None).ConfigureAwait(false) : null,
            launched, exited, time.GetUtcNow());
    }

    /// <summary>Waits for every container removal still under way (bounded).</summary>
    /// <returns>What could not be removed, one line per container.</returns>
    public async Task<IReadOnlyList<string>> DrainAsync()
    {
        while (true)
        {
            Task[] running;
            lock (_gate)
            {
                running = [.. _running];
            }

            if (running.Length == 0)
            {
                break;
            }

            // Each ends soon: cancelled ones are being stopped (podman stop --time 2), the others' run has ended.
            await Task.WhenAll(running.Select(t => t.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default))).ConfigureAwait(false);
        }

        return await _teardowns.DrainAsync().ConfigureAwait(false);
    }

    /// <summary>A container name unique to the run and action: <c>flytesharp-{run}-{n}-{random}</c>.</summary>
    public static string ContainerName(string run, string n)
    {
        var safe = new string(run.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());
        if (safe.Length > 40)
        {
            safe = safe[..40];
        }

        return $"flytesharp-{safe}-{n}-{Guid.NewGuid().ToString("N")[..6]}";
    }

    /// <summary>
    /// Notes in the sandbox which runtime this run's containers run in, before the first starts: if this process is
    /// killed, the sweep that finds its sandbox knows where to look for the containers it left (by their owner labels).
    /// </summary>
    public void RecordRuntime(string runtime)
    {
        if (Interlocked.Exchange(ref _runtimeRecorded, 1) == 0)
        {
            Directory.CreateDirectory(IoRoot);
            File.WriteAllText(Path.Combine(IoRoot, Sandboxes.SandboxSweeper.RuntimeFileName), runtime);
        }
    }
}
