using FlyteSharp.Runner;
using FlyteSharp.Tasks;
using FlyteSharp.Processes;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// The one engine that runs an action's container, for Python and C# actions alike: <c>podman run</c> of a
/// <see cref="ContainerRunSpec"/> with its output streamed into the run's log, the container stopped and removed when
/// the action is cancelled, a successful reply taken as soon as the runner announces it (<see cref="RunnerProtocol.ReplyWritten"/>;
/// the exit is then awaited off the critical path), a SIGKILL under a memory limit read as out-of-memory before anything
/// else when the action failed, and the removal of a finished container started off the critical path (<see cref="ContainerTeardowns"/>) and awaited by
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
        var outputs = Path.Combine(spec.IoDirectory, "outputs.json");
        var replied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var forwarding = 1;
        void OnOutput(string stream, string line)
        {
            if (stream == "stdout" && line == RunnerProtocol.ReplyWritten)
            {
                replied.TrySetResult();
                return;
            }

            // Once the result is returned the action is over: what its container still prints is not its log.
            if (Volatile.Read(ref forwarding) == 1)
            {
                log?.Invoke(stream, line);
            }
        }

        var exit = CliProcess.RunAsync(runtime, spec.Arguments(), onLine: null, standardInput: spec.StandardInput, environment: null,
            onOutput: OnOutput, cancellationToken: cancellationToken);
        CliResult result;
        try
        {
            if (await Task.WhenAny(exit, replied.Task).ConfigureAwait(false) != exit
                && await SucceededReplyAsync(outputs).ConfigureAwait(false) is { } reply)
            {
                // The runner wrote a complete, successful reply: that is the result. The container's exit (its state read
                // when it fails, so a late out-of-memory kill is reported) and removal are awaited off the critical path.
                var read = time.GetUtcNow();
                Volatile.Write(ref forwarding, 0);
                _teardowns.StartAfterExit(exit, runtime, spec.Name, spec.BundleAuthFile, resources.MemoryBytes is not null);
                return new ContainerOutcome(new CliResult(0, "", "", ""), false, reply, launched, read, read) { ExitPending = true };
            }

            result = await exit.ConfigureAwait(false);
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
                oom = await ContainerTeardowns.OutOfMemoryAsync(runtime, spec.Name, resources.MemoryBytes is not null).ConfigureAwait(false);
            }
        }
        finally
        {
            // Removal is off the critical path: the result is returned now, the run awaits the removal before it completes.
            _teardowns.Start(runtime, spec.Name, spec.BundleAuthFile);
        }

        return new ContainerOutcome(result, oom, ReplyFile.Read(outputs), launched, exited, time.GetUtcNow());
    }

    /// <summary>
    /// The reply file's text when it holds a successful call (<c>"ok": true</c>); null when it is missing, unreadable or a
    /// failure — a failed call waits for the container's exit, whose state (out of memory, bundle refused) decides what it means.
    /// </summary>
    private static Task<string?> SucceededReplyAsync(string path)
    {
        try
        {
            var text = ReplyFile.Read(path);
            if (text is null)
            {
                return Task.FromResult<string?>(null);
            }

            using var document = System.Text.Json.JsonDocument.Parse(text);
            return Task.FromResult(document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && document.RootElement.TryGetProperty("ok", out var ok) && ok.ValueKind == System.Text.Json.JsonValueKind.True ? text : null);
        }
        catch (Exception ex) when (ex is FlyteSharpException or System.Text.Json.JsonException)
        {
            // Refused or not (yet) a reply: the container's exit decides, and the exit path reports a refused reply.
            return Task.FromResult<string?>(null);
        }
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

    /// <summary>
    /// Writes the run's container warnings to stderr: containers that could not be removed (<paramref name="failures"/>)
    /// and containers that failed after their successful result was returned (<see cref="ContainerTeardowns.LateExits"/>).
    /// </summary>
    public async Task WarnAsync(string runName, IReadOnlyList<string> failures)
    {
        if (failures.Count > 0)
        {
            // The run's result stands; say which containers are left so they can be removed by hand.
            await Console.Error.WriteLineAsync($"warning: {failures.Count} container(s) of run {runName} could not be removed:\n  " +
                string.Join("\n  ", failures) + "\n  fix: podman rm --force <name>").ConfigureAwait(false);
        }

        foreach (var late in _teardowns.LateExits)
        {
            await Console.Error.WriteLineAsync($"warning: run {runName}: {late}").ConfigureAwait(false);
        }
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
