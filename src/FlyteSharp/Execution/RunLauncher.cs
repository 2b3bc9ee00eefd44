using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Sandboxes;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>
/// Starts a run: resolves settings, prepares the code bundle and checks every Python task of the root task's
/// environment (before anything is recorded), records the run and starts the root action. Everything comes
/// from the <see cref="RunEnvironment"/> the runtime hands in; nothing here reads static settings.
/// </summary>
internal static class RunLauncher
{
    /// <summary>Starts a run whose inputs are bound once the task's parameters are known (after Python tasks are checked).</summary>
    /// <param name="environment">The runtime's settings, clock and run store.</param>
    /// <param name="task">The root task.</param>
    /// <param name="bindInputs">Makes the inputs from the task's parameters.</param>
    /// <param name="options">Per-run options.</param>
    /// <param name="openDeployed">For a run of a deployed version (<see cref="RunOptions.Version"/>): opens the version's recorded images and C# code.</param>
    public static async Task<IRunConnection> StartAsync(
        RunEnvironment environment,
        TaskDefinition task,
        Func<IReadOnlyList<TaskParameter>, object?[]> bindInputs,
        RunOptions? options,
        Func<DeployedSources>? openDeployed)
    {
        ArgumentNullException.ThrowIfNull(task);
        options ??= new RunOptions();

        // Before anything is made: an unknown version is refused whatever the run's tasks are.
        var deployed = openDeployed?.Invoke();
        var config = environment.Config;
        var rootDir = config.RootDir;
        var time = environment.Time;
        if (deployed is not null && options.Mode == ExecutionMode.Local)
        {
            throw new FlyteSharpException(
                $"a deployed version runs in the images recorded under version {deployed.Version}, so it cannot run in local mode",
                fix: "leave the mode out (container) or pass kubernetes when running a version; run without a version for local mode");
        }

        // A version runs in its images: container mode, or kubernetes mode when asked for (configuration's local means container).
        var mode = deployed is null ? options.Mode ?? config.Mode
            : (options.Mode ?? config.Mode) == ExecutionMode.Kubernetes ? ExecutionMode.Kubernetes : ExecutionMode.Container;
        var maxConcurrency = options.MaxConcurrency ?? config.MaxConcurrency;
        if (maxConcurrency < 1)
        {
            throw new FlyteSharpException($"MaxConcurrency must be at least 1, not {maxConcurrency}", fix: "use a positive number, e.g. 32");
        }

        var now = time.GetUtcNow();
        var name = options.Name is { } n ? RunNames.Validate(n) : RunNames.Generate(task.Name, now);
        var url = RunUrl(config, name);
        var store = environment.Store;
        if (store.RunExists(name))
        {
            // Refused before anything is made; InsertRun below stays the authority for a race between two starts.
            throw RunStore.NameTaken(name, store.Path);
        }

        await SandboxSweeper.SweepAtRunStartAsync(config, store, options.CancellationToken).ConfigureAwait(false);
        var sandbox = RunSandbox.Create(config.Home, name, now);
        var settings = new RunSettings(name, url, config, rootDir, mode, maxConcurrency, config.MaxDepth, time, sandbox, options.Version)
        {
            BuildProgress = options.BuildProgress,
        };

        var pythonTasks = task.Environment.Tasks.Append(task).Where(t => t.Kind == TaskKind.Python).Distinct().ToArray();
        if (mode != ExecutionMode.Local && options.Version is null)
        {
            // Before any image is built: a lock that no longer matches pyproject.toml would fail deep inside `uv sync --locked`.
            Images.ImageDiagnostics.ThrowIfLockStale(pythonTasks.Select(t => t.Environment.Image).Append(task.Environment.Image).Distinct());
        }

        PythonRuntime? runtime = null;
        IReadOnlyDictionary<TaskDefinition, FlyteSharpException> deferred = new Dictionary<TaskDefinition, FlyteSharpException>();
        try
        {
            if (pythonTasks.Length > 0)
            {
                runtime = await PreparePythonAsync(settings, deployed, options.CancellationToken).ConfigureAwait(false);
                if (task.Kind == TaskKind.Python && !task.Options.Cache && runtime.Executor is ContainerPythonExecutor container)
                {
                    // The root action's container starts beside the check; a failing check stops it (the executor's disposal below).
                    container.Prestart(task.Environment, task.Python!, options.CancellationToken);
                }

                deferred = await PythonTaskChecker.CheckForRunAsync(runtime.Executor, pythonTasks, rootDir, task, options.CancellationToken).ConfigureAwait(false);
                foreach (var (broken, error) in deferred)
                {
                    // Not the root task: the run goes ahead; the task fails only if something calls it.
                    await Console.Error.WriteLineAsync($"warning: Python task {broken.Python} fails the pre-run check and will fail if called: {error.Message}").ConfigureAwait(false);
                }
            }

            var inputs = bindInputs(task.Parameters!);
            if (inputs.Length != task.InputTypes.Count)
            {
                throw new FlyteSharpException($"task '{task.Name}' takes {task.InputTypes.Count} input(s) but {inputs.Length} were given",
                    fix: "pass one value per input");
            }

            var writer = new RunStoreWriter(store, name);
            var controller = new RunController(settings, store, writer, ct => PreparePythonAsync(settings, deployed, ct), options.CancellationToken);
            TaskPayload inputsPayload;
            try
            {
                inputsPayload = await controller.Outputs.SerializeInputsAsync(task, task.Parameters!, inputs, options.CancellationToken).ConfigureAwait(false);
                store.InsertRun(new RunRecord(name, task.Name, task.Environment.Name, RunStatus.Running, inputsPayload.RecordText, null, null, url, now, null,
                    BundleDigestOf(runtime), mode), rootDir);
            }
            catch
            {
                controller.Dispose();
                await writer.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            if (runtime is not null)
            {
                controller.UsePython(runtime, pythonTasks, deferred);
            }

            if (mode != ExecutionMode.Local)
            {
                // A deployed version's C# tasks run where a fresh run's would, from the code recorded at deploy time.
                var dotnetContext = new DotnetExecutorContext(name, sandbox, config, settings.Secrets) { BuildProgress = settings.BuildProgress, Controller = settings.Controller };
                controller.UseDotnet((mode, deployed) switch
                {
                    (ExecutionMode.Kubernetes, null) => () => KubernetesDotnetExecutor.Create(dotnetContext),
                    (ExecutionMode.Kubernetes, { } version) => () => KubernetesDotnetExecutor.Create(dotnetContext, version),
                    (_, null) => () => ContainerDotnetExecutor.Create(dotnetContext),
                    (_, { } version) => () => ContainerDotnetExecutor.Create(dotnetContext, version),
                });
            }

            ConsoleCapture.Install();
            var completion = Task.Run(() => RunToEndAsync(controller, task, inputs, inputsPayload));
            _ = WatchForAbortAsync(store, controller, completion);
            return new RunConnection(name, url, BundleDigestOf(runtime), store, controller, completion, task);
        }
        catch
        {
            if (runtime is not null)
            {
                await runtime.Executor.DisposeAsync().ConfigureAwait(false);
            }

            // Only this start's own sandbox: a run of the same name that already exists keeps its files.
            RunSandbox.TryDelete(sandbox);
            throw;
        }
    }

    /// <summary>How often a running run checks the store for an abort request from another process.</summary>
    internal static TimeSpan AbortPollInterval { get; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Cancels the run when <c>flytesharp runs abort</c> (any process) asks for it in the store: the store is the one
    /// place every process can reach. Cancellation stops the run's containers and pods and records it cancelled.
    /// </summary>
    private static async Task WatchForAbortAsync(RunStore store, RunController controller, Task completion)
    {
        while (!completion.IsCompleted)
        {
            try
            {
                await Task.WhenAny(completion, Task.Delay(AbortPollInterval, controller.Time)).ConfigureAwait(false);
                if (!completion.IsCompleted && store.IsCancelRequested(controller.RunName))
                {
                    controller.Cancel();
                    return;
                }
            }
            catch (Microsoft.Data.Sqlite.SqliteException)
            {
                // A busy or briefly unreadable store: ask again next time.
            }
        }
    }

    /// <summary>The console URL of a run.</summary>
    public static string RunUrl(FlyteConfig config, string name) => $"{config.ConsoleUrl.TrimEnd('/')}/runs/{Uri.EscapeDataString(name)}";

    // A deployed version's runtime has no bundle (the code is in its images): its digest is empty.
    private static string? BundleDigestOf(PythonRuntime? runtime) => runtime?.Bundle.Digest is { Length: > 0 } digest ? digest : null;

    private static async Task<PythonRuntime> PreparePythonAsync(RunSettings settings, DeployedSources? deployedSources, CancellationToken cancellationToken)
    {
        if (deployedSources is not null)
        {
            if (settings.Mode == ExecutionMode.Kubernetes)
            {
                throw new FlyteSharpException(
                    $"version {deployedSources.Version} has Python tasks, and Python tasks of a deployed version do not run as pods yet (only its C# tasks do)",
                    fix: "run the version in container mode (leave --mode out), or run without a version in kubernetes mode");
            }

            // No bundle: the digest is empty and nothing is extracted; the executor runs from each image's code directory.
            var images = deployedSources.Images;
            var deployed = new PythonBundle("", null, null, settings.SandboxDirectory);
            var context = new PythonExecutorContext(settings.RunName, settings.SandboxDirectory, deployed, settings.Config, null) { Secrets = settings.Secrets };
            return new PythonRuntime(deployed, new ContainerPythonExecutor(context, images), null);
        }

        var rootDir = settings.RootDir ?? throw new FlyteSharpException(
            "this run has Python tasks but no root_dir, so there is no code bundle to run them from",
            settings.Config.SourceFile,
            fix: "call Flyte.InitFromConfig(rootDir: …) with the directory you would cd into before `python -c \"import your_module\"`, or set root_dir in flytesharp.toml");
        BundleFiles.CheckRoot(rootDir);

        var bundle = await RunBundles.PrepareAsync(rootDir, settings.Config, settings.SandboxDirectory, cancellationToken).ConfigureAwait(false);
        var executor = PythonExecutors.Create(settings.Mode, new PythonExecutorContext(settings.RunName, settings.SandboxDirectory, bundle, settings.Config, rootDir)
        {
            Secrets = settings.Secrets,
            BuildProgress = settings.BuildProgress,
            Controller = settings.Controller,
        });
        return new PythonRuntime(bundle, executor, rootDir);
    }

    private static async Task<RunEnd> RunToEndAsync(RunController controller, TaskDefinition task, object?[] inputs, TaskPayload inputsPayload)
    {
        RunEnd result;
        try
        {
            var outcome = await controller.RunRootAsync(task, inputs, inputsPayload).ConfigureAwait(false);
            result = new RunEnd(RunStatus.Succeeded, outcome, null);
        }
        catch (OperationCanceledException ex) when (controller.RunCancellation.IsCancellationRequested)
        {
            result = new RunEnd(RunStatus.Cancelled, null, ex);
        }
        catch (Exception ex)
        {
            result = new RunEnd(RunStatus.Failed, null, ex);
        }

        // Before the run is recorded as ended: no child call can start once the outcome is final.
        await controller.StopControllerServerAsync().ConfigureAwait(false);
        controller.Writer.RunFinished(result.Status, result.Outcome?.Output.RecordText, result.Error is null ? null : controller.RecordedError(result.Error), controller.Time.GetUtcNow());
        try
        {
            await controller.Writer.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            controller.Recorded.TrySetResult(result);

            // The root has ended: a child still running (its parent failed or was cancelled first) is stopped, so the
            // executors' disposal below, which waits for their containers, does not wait for work nobody awaits.
            controller.Cancel();
            if (controller.PythonIfCreated is { } python)
            {
                try
                {
                    await (await python.ConfigureAwait(false)).Executor.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception) when (python.IsFaulted)
                {
                    // Preparing Python failed; that error is already the action's.
                }
            }

            if (controller.DotnetIfCreated is { } dotnet)
            {
                await dotnet.DisposeAsync().ConfigureAwait(false);
            }

            controller.Dispose();
            RunSandbox.TryDelete(controller.Settings.SandboxDirectory);
        }

        return result;
    }
}
