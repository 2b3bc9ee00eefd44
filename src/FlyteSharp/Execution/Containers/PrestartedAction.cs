using System.Text;
using FlyteSharp.Execution.Python;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// The container of a run's root action, started while the run's pre-run check still runs: its runner waits for the
/// inputs on stdin. What it prints and where it was placed are held until the action claims it (<see cref="RunAsync"/>),
/// then handed to the action's log and record; a run that never claims it abandons it (<see cref="AbandonAsync"/>),
/// which stops and removes the container.
/// </summary>
internal sealed class PrestartedAction : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly DeferredInput _input = new();
    private readonly Lock _gate = new();
    private readonly List<(string Stream, string Line)> _heldLines = [];
    private Action<string, string>? _log;
    private (string? Image, string Host)? _heldPlacement;
    private Action<string?, string>? _placed;
    private Task<ContainerOutcome?> _outcome = Task.FromResult<ContainerOutcome?>(null);

    public PrestartedAction(TaskEnvironment environment, PythonTaskReference task, CancellationToken runStart)
    {
        Environment = environment;
        Function = task;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(runStart);
    }

    /// <summary>The environment whose action may claim this container.</summary>
    public TaskEnvironment Environment { get; }

    /// <summary>The function whose action may claim this container.</summary>
    public PythonTaskReference Function { get; }

    /// <summary>The container's stdin: the inputs, once an action claims it.</summary>
    public Stream Input => _input;

    /// <summary>Starts the container (<paramref name="launch"/> returns null when it decided not to start one).</summary>
    public void Start(Func<CancellationToken, Task<ContainerOutcome?>> launch) => _outcome = Task.Run(() => launch(_stop.Token));

    /// <summary>An output line of the container: held until the action claims it, then the action's.</summary>
    public void Log(string stream, string line)
    {
        lock (_gate)
        {
            if (_log is null)
            {
                _heldLines.Add((stream, line));
                return;
            }

            _log(stream, line);
        }
    }

    /// <summary>Where the container runs: held until the action claims it.</summary>
    public void Placed(string? image, string host)
    {
        lock (_gate)
        {
            if (_placed is null)
            {
                _heldPlacement = (image, host);
                return;
            }

            _placed(image, host);
        }
    }

    /// <summary>
    /// Runs <paramref name="request"/> in this container: sends its inputs, then waits for the outcome. Null when no
    /// container was started (the caller runs the action the ordinary way).
    /// </summary>
    public async Task<ContainerOutcome?> RunAsync(PythonTaskRequest request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _log = request.Log;
            foreach (var (stream, line) in _heldLines)
            {
                _log(stream, line);
            }

            _heldLines.Clear();
            _placed = request.Placed ?? ((_, _) => { });
            if (_heldPlacement is { } placement)
            {
                _placed(placement.Image, placement.Host);
            }
        }

        // The action's cancellation stops the container (the launcher stops and removes it).
        var registration = cancellationToken.Register(_stop.Cancel);
        try
        {
            // A large input stays a file: the container reads it through its stdin, never whole in memory.
            _input.Supply(request.InputsFile is { } file
                ? new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan)
                : new MemoryStream(Encoding.UTF8.GetBytes(request.InputsJson), writable: false));
            return await _outcome.ConfigureAwait(false);
        }
        finally
        {
            await registration.DisposeAsync().ConfigureAwait(false);
            Dispose();
        }
    }

    /// <summary>Stops and removes the container of a run that never claimed it.</summary>
    public async Task AbandonAsync()
    {
        _input.End();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _outcome.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or FlyteSharpException or IOException or UnauthorizedAccessException
            or InvalidOperationException or System.ComponentModel.Win32Exception or System.Text.Json.JsonException)
        {
            // Stopped before it ran anything, or failed starting: the run is not going ahead, so nothing to report.
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        _input.Dispose();
        _stop.Dispose();
    }
}
