using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Execution.Python;
using FlyteSharp.Runner;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>
/// Executes one run: the root action and every child action its tasks call, with deterministic ids, a
/// per-run concurrency bound, a depth bound, retries, timeouts and caching; records everything in the run store.
/// </summary>
internal sealed class RunController : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _runCancellation;
    private readonly ConcurrentDictionary<TaskDefinition, Lazy<Task>> _checked = new();
    private readonly ConcurrentDictionary<string, string> _cacheWrites = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<TaskDefinition, Lazy<Task<string>>> _codeVersions = new();
    private readonly Func<CancellationToken, Task<PythonRuntime>> _pythonFactory;
    private readonly ConcurrentDictionary<TaskDefinition, byte> _startedTasks = new();
    private readonly object _controllerServerGate = new();
    private ControllerServer? _controllerServer;
    private Lazy<Task<PythonRuntime>> _python;
    private Lazy<IDotnetTaskExecutor>? _dotnet;
    private readonly ConcurrentDictionary<string, bool> _inDriverNoted = new(StringComparer.Ordinal);
    private int _noControllerUrlNoted;

    public RunController(RunSettings settings, RunStore store, RunStoreWriter writer, Func<CancellationToken, Task<PythonRuntime>> pythonFactory, CancellationToken cancellationToken)
    {
        Settings = settings;
        Store = store;
        Writer = writer;
        _slots = new SemaphoreSlim(settings.MaxConcurrency, settings.MaxConcurrency);
        _runCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        RunCancellation = _runCancellation.Token; // read once: the source's Token throws after Dispose, its token never does
        _pythonFactory = pythonFactory;
        _python = new Lazy<Task<PythonRuntime>>(() => _pythonFactory(_runCancellation.Token));
        Outputs = new RunOutputs(settings.Config, Path.Combine(settings.SandboxDirectory, "values"));
        settings.Controller.Bind(() => ControllerServer);
    }

    /// <summary>Where the run's inputs and outputs above the inline limit go (blobs in the store).</summary>
    public RunOutputs Outputs { get; }

    public RunSettings Settings { get; }

    public string RunName => Settings.RunName;

    public RunStore Store { get; }

    public RunStoreWriter Writer { get; }

    public TimeProvider Time => Settings.TimeProvider;

    public CancellationToken RunCancellation { get; }

    /// <summary>
    /// The run's outcome once it is recorded in the run store: before executors release their resources (container
    /// removals), which the run's completion awaits.
    /// </summary>
    public TaskCompletionSource<RunEnd> Recorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Uses an already-prepared Python runtime (prepared and checked before the run started).</summary>
    /// <param name="runtime">The runtime.</param>
    /// <param name="checkedTasks">The tasks the check covered.</param>
    /// <param name="failedChecks">Tasks that failed the check without blocking the run: calling one fails its action with this error.</param>
    public void UsePython(PythonRuntime runtime, IEnumerable<TaskDefinition> checkedTasks, IReadOnlyDictionary<TaskDefinition, FlyteSharpException>? failedChecks = null)
    {
        _python = new Lazy<Task<PythonRuntime>>(Task.FromResult(runtime));
        foreach (var task in checkedTasks)
        {
            _checked[task] = new Lazy<Task>(failedChecks is not null && failedChecks.TryGetValue(task, out var error) ? Task.FromException(error) : Task.CompletedTask);
        }
    }

    /// <summary>
    /// Runs the C# actions of environments with a .NET image (<c>Image.FromDotnetBase</c>) outside the driver with
    /// the executor <paramref name="factory"/> makes on first use (container and Kubernetes modes).
    /// </summary>
    public void UseDotnet(Func<IDotnetTaskExecutor> factory) => _dotnet = new Lazy<IDotnetTaskExecutor>(factory);

    /// <summary>The .NET executor, if one was created (for disposal).</summary>
    public IDotnetTaskExecutor? DotnetIfCreated => _dotnet is { IsValueCreated: true } dotnet ? dotnet.Value : null;

    /// <summary>
    /// The run's controller API server, started on first use (when the first action that runs outside the driver starts):
    /// a Unix socket in the sandbox, or TCP in Kubernetes mode. Stopped when the run ends.
    /// </summary>
    public ControllerServer ControllerServer
    {
        get
        {
            lock (_controllerServerGate)
            {
                ObjectDisposedException.ThrowIf(_controllerServerStopped, this);
                if (_controllerServer is null)
                {
                    _controllerServer = Settings.Mode == ExecutionMode.Kubernetes
                        ? ControllerServer.StartTcp(this, Path.Combine(Settings.SandboxDirectory, "controller"), Settings.Config.ControllerListen, Settings.Config.ControllerUrl)
                        : ControllerServer.StartUnix(this, Path.Combine(Settings.SandboxDirectory, "controller"));

                    // A task that prints the token (it can read the file) does not put it in the run's log or record.
                    Settings.Secrets.Protect(_controllerServer.Token.Value);
                }

                return _controllerServer;
            }
        }
    }

    private bool _controllerServerStopped;

    /// <summary>Stops the controller API server, if one was started (pending calls get 409).</summary>
    public async ValueTask StopControllerServerAsync()
    {
        ControllerServer? server;
        lock (_controllerServerGate)
        {
            _controllerServerStopped = true;
            server = _controllerServer;
        }

        if (server is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The tasks a child call from outside the driver may name: those of every environment the run has started an action in.</summary>
    public IEnumerable<TaskDefinition> KnownTasks =>
        _startedTasks.Keys.Select(t => t.Environment).Distinct().SelectMany(e => e.Tasks).Concat(_startedTasks.Keys).Distinct();

    /// <summary>A task's parameters, learned from the Python function's signature first when they are not known yet.</summary>
    public async Task<IReadOnlyList<TaskParameter>> EnsureParametersAsync(TaskDefinition task)
    {
        if (task.Parameters is null && task.Kind == TaskKind.Python)
        {
            await EnsureCheckedAsync(task).ConfigureAwait(false);
        }

        return task.Parameters ?? throw new FlyteSharpException($"the parameters of task '{task.Name}' are not known", fix: "declare them with parameterNames");
    }

    /// <summary>The Python runtime, if one was created (for disposal).</summary>
    public Task<PythonRuntime>? PythonIfCreated => _python.IsValueCreated ? _python.Value : null;

    public void Cancel()
    {
        try
        {
            _runCancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run is over and has released its resources: there is nothing left to cancel.
        }
    }

    /// <summary>Releases the run's concurrency slots, its cancellation source (and its link to the caller's token) and its output spill files.</summary>
    /// <remarks>Called once the run has ended and been recorded; no action waits on a slot any more.</remarks>
    public void Dispose()
    {
        Outputs.Dispose();
        _slots.Dispose();
        _runCancellation.Dispose();
    }

    /// <summary>Records one log line of an action, with any secret value of the run masked.</summary>
    public void Log(string actionId, string stream, string line) => Writer.Log(actionId, stream, Settings.Secrets.Redact(line), Time.GetUtcNow());

    /// <summary>An exception as recorded for the run, with any secret value of the run masked.</summary>
    public TaskError RecordedError(Exception ex)
    {
        var error = ToError(ex);
        return new TaskError(error.Type, Settings.Secrets.Redact(error.Message), Settings.Secrets.RedactNullable(error.Traceback));
    }

    /// <summary>Runs the root action. Its output's value is not materialized (<see cref="Run{TOut}.GetOutputAsync"/> reads it when asked).</summary>
    public Task<ActionOutcome> RunRootAsync(TaskDefinition task, object?[] inputs, TaskPayload inputsPayload)
    {
        var id = ActionIds.Root(task, inputsPayload.Identity);
        return ExecuteActionAsync(task, inputs, inputsPayload, id, null, 0, needValue: false);
    }

    /// <summary>A task called from inside a running action: a child action of it.</summary>
    public async Task<object?> CallChildAsync(ActionScope parent, TaskDefinition task, object?[] inputs)
    {
        parent.CancellationToken.ThrowIfCancellationRequested();
        var sequence = parent.NextChildSequence();
        if (task.Kind == TaskKind.Python)
        {
            await EnsureCheckedAsync(task).ConfigureAwait(false);
        }

        var inputsPayload = await Outputs.SerializeInputsAsync(task, task.Parameters!, inputs, parent.CancellationToken).ConfigureAwait(false);
        var id = ActionIds.Child(parent.ActionId, task, inputsPayload.Identity, sequence);
        var depth = parent.Action.Depth + 1;
        if (depth > Settings.MaxDepth)
        {
            throw new FlyteSharpException(
                $"task calls are nested more than {Settings.MaxDepth} deep ({Chain(parent.Action, task)})",
                fix: "check for unbounded recursion between tasks, or raise [runs] max_depth in flytesharp.toml");
        }

        var inputsHash = TaskJson.Hash(inputsPayload.Identity);
        for (var a = parent.Action; a is not null; a = a.Parent)
        {
            if (ReferenceEquals(a.Task, task) && a.InputsHash == inputsHash)
            {
                throw new FlyteSharpException(
                    $"task '{task.Name}' calls itself with the same inputs, a cycle that never ends ({Chain(parent.Action, task)})",
                    fix: "make each recursive call change its inputs towards a base case");
            }
        }

        parent.Action.ChildStarting();
        try
        {
            var outcome = await ExecuteActionAsync(task, inputs, inputsPayload, id, parent.Action, sequence, needValue: true).ConfigureAwait(false);
            return outcome.Value;
        }
        finally
        {
            RunOutputs.Release(inputsPayload);
            await parent.Action.ChildFinishedAsync().ConfigureAwait(false);
        }
    }

    private async Task<ActionOutcome> ExecuteActionAsync(TaskDefinition task, object?[] inputs, TaskPayload inputsPayload, string id, ActionState? parent, int sequence, bool needValue)
    {
        var depth = parent is null ? 0 : parent.Depth + 1;
        var action = new ActionState(id, parent, task, TaskJson.Hash(inputsPayload.Identity), depth, _slots);
        _startedTasks.TryAdd(task, 0);
        Writer.ActionStarted(id, parent?.Id, sequence, depth, task.Name, task.Kind, task.Environment.Name, inputsPayload.RecordText, Time.GetUtcNow(), task.Environment.EnvVars);

        string? cacheKey = null;
        string? codeVersion = null;
        if (task.Options.Cache)
        {
            codeVersion = await CodeVersionAsync(task).ConfigureAwait(false);
            cacheKey = TaskJson.Hash("cache", task.Name, codeVersion, inputsPayload.Identity);
            var cached = _cacheWrites.TryGetValue(cacheKey, out var pending) ? pending : Store.TryGetCached(cacheKey);
            if (cached is not null)
            {
                var output = TaskPayload.FromRecord(cached);
                var value = needValue ? await Outputs.ReadValueAsync(task, output, _runCancellation.Token).ConfigureAwait(false) : null;
                Writer.ActionFinished(id, ActionStatus.Cached, 0, true, cached, null, Time.GetUtcNow());
                return new ActionOutcome(output, value, needValue);
            }
        }

        await action.AcquireSlotAsync(_runCancellation.Token).ConfigureAwait(false);
        try
        {
            var attempts = task.Options.Retries + 1;
            for (var attempt = 1; ; attempt++)
            {
                using var timeout = task.Options.Timeout is { } limit ? new CancellationTokenSource(limit, Time) : new CancellationTokenSource();
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(_runCancellation.Token, timeout.Token);
                var scope = new ActionScope(this, action, attempt, linked.Token);
                Writer.AttemptStarted(id, attempt, Time.GetUtcNow());
                Exception error;
                try
                {
                    var outcome = await RunAttemptAsync(scope, task, inputs, inputsPayload, needValue).ConfigureAwait(false);
                    var recorded = outcome.Output.RecordText;
                    if (cacheKey is not null)
                    {
                        _cacheWrites[cacheKey] = recorded;
                        Writer.CachePut(cacheKey, task.Name, codeVersion!, recorded, id, Time.GetUtcNow());
                    }

                    Writer.ActionFinished(id, ActionStatus.Succeeded, attempt, false, recorded, null, Time.GetUtcNow());
                    return outcome;
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_runCancellation.IsCancellationRequested)
                {
                    error = new TaskTimeoutException(task.Name, task.Options.Timeout!.Value, attempt);
                }
                catch (OperationCanceledException ex) when (_runCancellation.IsCancellationRequested)
                {
                    Writer.ActionFinished(id, ActionStatus.Cancelled, attempt, false, null, RecordedError(ex), Time.GetUtcNow());
                    throw;
                }
                catch (Exception ex)
                {
                    error = ex;
                }
                finally
                {
                    scope.FlushConsole();
                }

                if (attempt >= attempts)
                {
                    var status = error is TaskTimeoutException ? ActionStatus.TimedOut : ActionStatus.Failed;
                    Writer.ActionFinished(id, status, attempt, false, null, RecordedError(error), Time.GetUtcNow());
                    ExceptionDispatchInfo.Capture(error).Throw();
                }

                var delay = task.Options.RetryBackoff * Math.Pow(2, attempt - 1);
                Log(id, "flytesharp", $"attempt {attempt} of {attempts} failed: {error.GetType().Name}: {error.Message}; retrying in {delay}");
                await Task.Delay(delay, Time, _runCancellation.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            action.ReleaseSlot();
        }
    }

    private async Task<ActionOutcome> RunAttemptAsync(ActionScope scope, TaskDefinition task, object?[] inputs, TaskPayload inputsPayload, bool needValue)
    {
        if (task.Kind == TaskKind.CSharp && Settings.Mode != ExecutionMode.Local)
        {
            if (_dotnet is not null && task.Environment.Image.HasDotnetWorker)
            {
                return await RunDotnetOutsideAsync(scope, task, inputsPayload, needValue).ConfigureAwait(false);
            }

            if (_inDriverNoted.TryAdd(task.Environment.Name, true))
            {
                Log(scope.ActionId, "flytesharp", $"info: C# tasks of environment '{task.Environment.Name}' run in the driver: its image is not a .NET image " +
                    $"(Image.FromDotnetBase), so {EnumNames.Name(Settings.Mode)} mode cannot run them in their own container");
            }
        }

        if (task.Kind == TaskKind.CSharp)
        {
            // In-process bodies share the driver's environment: their secrets are handed over through TaskContext.
            scope.Secrets = Settings.Secrets.Resolve(task.Environment);
            Writer.ActionPlaced(scope.ActionId, null, InProcessHost);
            var value = await InvokeInScopeAsync(scope, task, inputs).WaitAsync(scope.CancellationToken).ConfigureAwait(false);
            return new ActionOutcome(await Outputs.SerializeAsync(task, value, scope.CancellationToken).ConfigureAwait(false), value, true);
        }

        var runtime = await _python.Value.WaitAsync(scope.CancellationToken).ConfigureAwait(false);
        var inputsFile = inputsPayload.Json is null ? await Outputs.LocalFileOfAsync(inputsPayload, scope.CancellationToken).ConfigureAwait(false) : null;
        var request = new PythonTaskRequest(task.Python!, task.Environment, inputsPayload.Json ?? "", scope.ActionId, (stream, line) => Log(scope.ActionId, stream, line), inputsFile,
            (image, host) => Writer.ActionPlaced(scope.ActionId, image, host));
        TaskReply result;
        try
        {
            result = await runtime.Executor.ExecuteAsync(request, scope.CancellationToken).ConfigureAwait(false);
        }
        catch (PythonWorkerDiedException ex)
        {
            throw PythonTaskException.From(task.Name, new TaskReplyError("ProcessExited", ex.Message, ""));
        }

        if (result.Error is { } e)
        {
            throw PythonTaskException.From(task.Name, e);
        }

        return await OutcomeOfAsync(task, result, needValue, scope.CancellationToken).ConfigureAwait(false);
    }

    private async Task<ActionOutcome> RunDotnetOutsideAsync(ActionScope scope, TaskDefinition task, TaskPayload inputsPayload, bool needValue)
    {
        var inputsFile = inputsPayload.Json is null ? await Outputs.LocalFileOfAsync(inputsPayload, scope.CancellationToken).ConfigureAwait(false) : null;
        var request = new DotnetTaskRequest(task, inputsPayload.Json ?? "", inputsFile, scope.ActionId, (stream, line) => Log(scope.ActionId, stream, line),
            (image, host) => Writer.ActionPlaced(scope.ActionId, image, host))
        {
            Controller = Settings.Mode switch
            {
                ExecutionMode.Container => () => ContainerControllerAccess(scope),
                ExecutionMode.Kubernetes => () => PodControllerAccess(scope),
                _ => null,
            },
            CalledFromSameEnvironment = CalledFromSameEnvironment(scope.Action),
        };
        var result = await _dotnet!.Value.ExecuteAsync(request, scope.CancellationToken).ConfigureAwait(false);
        if (result.Error is { } e)
        {
            throw new DotnetTaskException(task.Name, e.Type, e.Message, e.Traceback);
        }

        return await OutcomeOfAsync(task, result, needValue, scope.CancellationToken).ConfigureAwait(false);
    }

    private static bool CalledFromSameEnvironment(ActionState action)
    {
        for (var caller = action.Parent; caller is not null; caller = caller.Parent)
        {
            if (ReferenceEquals(caller.Task.Environment, action.Task.Environment))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The controller API for one containerised C# action: the run's server (started on first use), the action registered
    /// as a parent while its container runs, the socket and token file mounted read-only where the worker looks for them.
    /// </summary>
    private DotnetControllerAccess ContainerControllerAccess(ActionScope scope)
    {
        var server = ControllerServer;
        var registration = server.Register(scope);
        return new DotnetControllerAccess(
            ["--controller", "unix:" + FlyteSharp.Controller.ControllerProtocol.ContainerSocketPath, "--controller-token-file", FlyteSharp.Controller.ControllerProtocol.ContainerTokenPath],
            [new(server.SocketPath!, FlyteSharp.Controller.ControllerProtocol.ContainerSocketPath), new(server.TokenFile, FlyteSharp.Controller.ControllerProtocol.ContainerTokenPath)],
            registration);
    }

    /// <summary>
    /// The controller API for one C# action in a Pod: the run's TCP server (started on first use), the action registered as
    /// a parent while its Pod runs, the advertised URL as the worker's <c>--controller</c>, and the token for the executor
    /// to hand over as a Kubernetes Secret. Null (the worker then refuses nested calls, naming the setting) when
    /// <c>[kubernetes] controller_url</c> is not set: a Pod cannot reach the driver's loopback default.
    /// </summary>
    private DotnetControllerAccess? PodControllerAccess(ActionScope scope)
    {
        if (Settings.Config.ControllerUrl is null)
        {
            if (Interlocked.Exchange(ref _noControllerUrlNoted, 1) == 0)
            {
                Log(scope.ActionId, "flytesharp",
                    "info: C# tasks in Pods cannot call other tasks in this run: [kubernetes] controller_url is not set in flytesharp.toml " +
                    "(the URL Pods reach this driver at, e.g. \"http://driver.example:7443\", with controller_listen = \"0.0.0.0:7443\")");
            }

            return null;
        }

        var server = ControllerServer;
        var registration = server.Register(scope);
        return new DotnetControllerAccess(
            ["--controller", server.Address.Text, "--controller-token-file", FlyteSharp.Controller.ControllerProtocol.ContainerTokenPath], [], registration)
        {
            Token = server.Token,
        };
    }

    /// <summary>An action's outcome from a runner's reply (Python runner or .NET worker): the output recorded, its value read when needed.</summary>
    private async Task<ActionOutcome> OutcomeOfAsync(TaskDefinition task, TaskReply result, bool needValue, CancellationToken cancellationToken)
    {
        var output = result.OutputFile is { } file
            ? await Outputs.FromFileAsync(file, cancellationToken).ConfigureAwait(false)
            : await Outputs.FromJsonAsync(result.OutputJson!, cancellationToken).ConfigureAwait(false);
        try
        {
            // A child's value is what its caller awaits; a root's is read only if someone asks (GetOutputAsync).
            var value = needValue ? await Outputs.ReadValueAsync(task, output, cancellationToken).ConfigureAwait(false) : null;
            return new ActionOutcome(output with { LocalFile = null }, value, needValue);
        }
        finally
        {
            RunOutputs.Release(output);
        }
    }

    private static readonly string InProcessHost = $"in-process ({Environment.MachineName}, pid {Environment.ProcessId})";

    private static async Task<object?> InvokeInScopeAsync(ActionScope scope, TaskDefinition task, object?[] inputs)
    {
        // Setting the AsyncLocal inside this async method scopes it to the body's flow, not the caller's.
        ActionScope.Current = scope;
        return await task.InvokeBodyAsync(inputs).ConfigureAwait(false);
    }

    /// <summary>The task's code version for its cache key (see <see cref="TaskCodeVersion"/>), worked out once per run.</summary>
    private Task<string> CodeVersionAsync(TaskDefinition task) =>
        _codeVersions.GetOrAdd(task, t => new Lazy<Task<string>>(async () =>
        {
            var python = t.Kind == TaskKind.Python && t.Options.CacheVersion is null
                ? await _python.Value.WaitAsync(_runCancellation.Token).ConfigureAwait(false)
                : null;
            return TaskCodeVersion.Of(t, python, Settings.DeployedVersion);
        })).Value;

    private Task EnsureCheckedAsync(TaskDefinition task) =>
        _checked.GetOrAdd(task, t => new Lazy<Task>(async () =>
        {
            var runtime = await _python.Value.ConfigureAwait(false);
            await PythonTaskChecker.CheckAsync(runtime.Executor, [t], runtime.RootDir, _runCancellation.Token).ConfigureAwait(false);
        })).Value;

    private static string Chain(ActionState parent, TaskDefinition next)
    {
        var names = new List<string> { next.Name };
        for (var a = parent; a is not null; a = a.Parent)
        {
            names.Add(a.Task.Name);
        }

        names.Reverse();
        return names.Count <= 8 ? string.Join(" → ", names) : string.Join(" → ", names.Take(3)) + " → … → " + string.Join(" → ", names.TakeLast(3));
    }

    internal static TaskError ToError(Exception ex) => ex switch
    {
        RemoteTaskException remote => new TaskError(remote.RemoteType, remote.RemoteMessage, remote.RemoteTraceback),
        _ => new TaskError(ex.GetType().FullName ?? ex.GetType().Name, ex.Message, ex.StackTrace),
    };
}
