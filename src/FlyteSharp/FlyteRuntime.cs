using FlyteSharp.Building;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Deploy;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Sandboxes;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp;

/// <summary>
/// One FlyteSharp runtime: its settings (root_dir included: <see cref="FlyteConfig.RootDir"/> is its one home), its
/// clock and its run store. Runs, deploys and Python calls outside a run all go through an instance; the static
/// <see cref="Flyte"/> front is a thin layer over a replaceable default instance. Hosts and tests may create their
/// own instances, several side by side with different homes.
/// </summary>
public sealed class FlyteRuntime : IDisposable
{
    private readonly Lazy<RunStore> _runStore;
    private volatile bool _disposed;

    /// <summary>Creates a runtime over <paramref name="config"/>.</summary>
    /// <param name="config">Settings; <see cref="FlyteConfig.RootDir"/> is the code bundle's root.</param>
    /// <param name="timeProvider">The clock for every timestamp (default: the system clock).</param>
    public FlyteRuntime(FlyteConfig config, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        TimeProvider = timeProvider ?? TimeProvider.System;
        _runStore = new Lazy<RunStore>(() => RunStore.Open(Config.EffectiveRunDatabase, TimeProvider));
    }

    /// <summary>The settings in effect.</summary>
    public FlyteConfig Config { get; }

    /// <summary>The code bundle's root directory, or null when none is set (the same as <see cref="FlyteConfig.RootDir"/>).</summary>
    public string? RootDir => Config.RootDir;

    /// <summary>The clock for every timestamp of this runtime's runs and deploys.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>
    /// The runs recorded in this runtime's run database (<see cref="FlyteConfig.EffectiveRunDatabase"/>), by any process:
    /// list, read, follow logs, read whole outputs, ask a running one to stop. The first use opens the database, creating it when missing.
    /// </summary>
    /// <exception cref="FlyteSharpException">The run database is a directory or not a run database.</exception>
    public RunHistory Runs => new(_runStore.Value, Config);

    /// <summary>
    /// Loads settings the way the seed's <c>flyte.init_from_config(root_dir=…)</c> does and makes a runtime over them.
    /// root_dir is the directory you would <c>cd</c> into before <c>python -c "import my_module"</c>: <c>src/</c> for src layouts.
    /// </summary>
    /// <param name="rootDir">The code bundle's root; overrides <c>root_dir</c> from the config file.</param>
    /// <param name="config">Settings to use; when null they are loaded (<c>flytesharp.toml</c> searched upwards from <paramref name="rootDir"/>, then <c>FLYTESHARP_*</c>).</param>
    /// <param name="configPath">An explicit config file to load when <paramref name="config"/> is null.</param>
    /// <param name="timeProvider">The clock (default: the system clock).</param>
    /// <exception cref="FlyteSharpException">root_dir does not exist, is not a directory or is a broken link, or the config file is invalid.</exception>
    public static FlyteRuntime FromConfig(string? rootDir = null, FlyteConfig? config = null, string? configPath = null, TimeProvider? timeProvider = null)
    {
        var full = rootDir is null ? null : BundleFiles.CheckRoot(rootDir);

        config ??= FlyteConfig.Load(configPath, workingDirectory: full ?? Directory.GetCurrentDirectory());
        return new FlyteRuntime(config with { RootDir = full ?? config.RootDir }, timeProvider);
    }

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public async Task<Run<TOut>> Run<TOut>(FlyteTask<TOut> task, RunOptions? options = null) =>
        new Run<TOut>(await StartAsync(task, _ => [], options).ConfigureAwait(false));

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="T1">The first input's type.</typeparam>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="input1">The first input.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public async Task<Run<TOut>> Run<T1, TOut>(FlyteTask<T1, TOut> task, T1 input1, RunOptions? options = null) =>
        new Run<TOut>(await StartAsync(task, _ => [input1], options).ConfigureAwait(false));

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="T1">The first input's type.</typeparam>
    /// <typeparam name="T2">The second input's type.</typeparam>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="input1">The first input.</param>
    /// <param name="input2">The second input.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public async Task<Run<TOut>> Run<T1, T2, TOut>(FlyteTask<T1, T2, TOut> task, T1 input1, T2 input2, RunOptions? options = null) =>
        new Run<TOut>(await StartAsync(task, _ => [input1, input2], options).ConfigureAwait(false));

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="T1">The first input's type.</typeparam>
    /// <typeparam name="T2">The second input's type.</typeparam>
    /// <typeparam name="T3">The third input's type.</typeparam>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="input1">The first input.</param>
    /// <param name="input2">The second input.</param>
    /// <param name="input3">The third input.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public async Task<Run<TOut>> Run<T1, T2, T3, TOut>(FlyteTask<T1, T2, T3, TOut> task, T1 input1, T2 input2, T3 input3, RunOptions? options = null) =>
        new Run<TOut>(await StartAsync(task, _ => [input1, input2, input3], options).ConfigureAwait(false));

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="T1">The first input's type.</typeparam>
    /// <typeparam name="T2">The second input's type.</typeparam>
    /// <typeparam name="T3">The third input's type.</typeparam>
    /// <typeparam name="T4">The fourth input's type.</typeparam>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="input1">The first input.</param>
    /// <param name="input2">The second input.</param>
    /// <param name="input3">The third input.</param>
    /// <param name="input4">The fourth input.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public async Task<Run<TOut>> Run<T1, T2, T3, T4, TOut>(FlyteTask<T1, T2, T3, T4, TOut> task, T1 input1, T2 input2, T3 input3, T4 input4, RunOptions? options = null) =>
        new Run<TOut>(await StartAsync(task, _ => [input1, input2, input3, input4], options).ConfigureAwait(false));

    /// <summary>
    /// Starts a run of a task found by name rather than by type (a project's <see cref="Tasks.Discovery.TaskCatalog"/>),
    /// given its inputs as text by parameter name (<c>--input n=10</c>): JSON values, or bare strings.
    /// </summary>
    /// <param name="task">The root task.</param>
    /// <param name="inputs">Each parameter's value as text, by name.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">An input is missing, unknown or not of its parameter's type, or the run cannot start (see the typed overloads).</exception>
    public async Task<Run> RunWithTextInputsAsync(TaskDefinition task, IReadOnlyDictionary<string, string> inputs, RunOptions? options = null) =>
        new(await StartAsync(task, parameters => TaskInputs.Bind(task, parameters, inputs), options).ConfigureAwait(false));

    /// <summary>
    /// Deploys <paramref name="environment"/> as a full build: its image's <c>WithCodeBundle()</c> becomes a
    /// <c>COPY</c> of the code bundle's files, the image is built and pushed (skipped when the registry has
    /// the tag), and the deployment is recorded under <paramref name="version"/>. Nothing is uploaded as a bundle.
    /// Run it later with <c>RunOptions.Version</c> (or <c>flytesharp run … --version</c>).
    /// </summary>
    /// <param name="environment">The environment to deploy.</param>
    /// <param name="copyStyle">Must be <see cref="CopyStyle.None"/>: deploys carry their code in the image.</param>
    /// <param name="version">Required: a version you can trace, ideally a git commit SHA or tag.</param>
    /// <param name="options">Build output, cancellation.</param>
    /// <returns>The recorded deployment.</returns>
    /// <exception cref="FlyteSharpException">No version, no <c>WithCodeBundle()</c>, no root_dir, or the build failed.</exception>
    public async Task<Deployment> Deploy(TaskEnvironment environment, CopyStyle copyStyle = CopyStyle.None, string? version = null, DeployOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return (await Deploy([environment], copyStyle, version, options).ConfigureAwait(false))[0];
    }

    /// <summary>Deploys several environments under one version (one build per distinct image).</summary>
    /// <param name="environments">The environments to deploy.</param>
    /// <param name="copyStyle">Must be <see cref="CopyStyle.None"/>.</param>
    /// <param name="version">Required: a version you can trace, ideally a git commit SHA or tag.</param>
    /// <param name="options">Build output, cancellation.</param>
    /// <returns>One deployment per environment.</returns>
    /// <exception cref="FlyteSharpException">No version, no <c>WithCodeBundle()</c>, no root_dir, or a build failed.</exception>
    public Task<IReadOnlyList<Deployment>> Deploy(IReadOnlyList<TaskEnvironment> environments, CopyStyle copyStyle = CopyStyle.None, string? version = null, DeployOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new DeployOptions();
        return Deployer.DeployAsync(environments, copyStyle, version, Config, output: options.BuildOutput, time: TimeProvider, progress: options.BuildProgress, cancellationToken: options.CancellationToken);
    }

    /// <summary>The deployments recorded under <paramref name="version"/>, one per environment (empty when none).</summary>
    /// <param name="version">The deploy version.</param>
    public IReadOnlyList<Deployment> Deployments(string version) =>
        DeploymentStore.Open(Config.EffectiveRunDatabase).Get(version);

    /// <summary>Every recorded deployment, of every version (empty when none).</summary>
    public IReadOnlyList<Deployment> Deployments() =>
        DeploymentStore.Open(Config.EffectiveRunDatabase).List();

    /// <summary>
    /// Builds and pushes the images of <paramref name="environments"/> as fast-deploy images (the code travels in the
    /// bundle: <c>WithCodeBundle()</c> adds nothing), once per distinct tag, skipping tags the registry already has.
    /// A failed image is a result, not an exception, so the others still build.
    /// </summary>
    /// <param name="environments">The environments whose images to build.</param>
    /// <param name="options">Force, progress, registry HTTP handler, cancellation.</param>
    /// <returns>One result per distinct image: built, skipped (already there) or failed, with timings.</returns>
    /// <exception cref="FlyteSharpException">An image definition is invalid (e.g. a uv.lock older than its pyproject.toml) or no builder is available.</exception>
    public async Task<IReadOnlyList<ImageBuildResult>> BuildImages(IReadOnlyList<TaskEnvironment> environments, ImageBuildOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(environments);
        ObjectDisposedException.ThrowIf(_disposed, this);
        options ??= new ImageBuildOptions();
        var resolve = new ImageResolveOptions(Config, CopyStyle.All);
        ImageDiagnostics.ThrowIfLockStale(environments.Select(e => e.Image));
        var targets = environments.Select(e => ImageBuildTarget.From(e.Image.Resolve(resolve), e.Name)).ToList();
        var service = await ImageBuildServices.CreateAsync(Config, options.RegistryHandler, TimeProvider, options.CancellationToken).ConfigureAwait(false);
        return await service.BuildAsync(targets, options.Force, progress: options.Progress, cancellationToken: options.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Cleans up after runs whose process is gone: marks them abandoned, removes the containers of gone processes (on
    /// every container runtime on PATH) and deletes their sandboxes that ended at least <paramref name="olderThan"/> ago.
    /// Runs still going are left alone.
    /// </summary>
    /// <param name="olderThan">The sandboxes' minimum age (default: <see cref="FlyteConfig.SandboxMaxAge"/>).</param>
    /// <param name="cancellationToken">Stops the clean-up; what it has not reached stays for the next one.</param>
    /// <returns>What was marked and removed, and how many sandboxes were kept.</returns>
    public Task<SweepReport> CleanUpRunsAsync(TimeSpan? olderThan = null, CancellationToken cancellationToken = default) =>
        SandboxSweeper.SweepAsync(Config, _runStore.Value, olderThan ?? Config.SandboxMaxAge, budget: null, allContainers: true, cancellationToken);

    /// <summary>
    /// Starts the run console (the pages run URLs point at, and its JSON API) on the loopback <paramref name="port"/>,
    /// reading this runtime's run database. Dispose the server to stop it.
    /// </summary>
    /// <param name="port">The port (the one in <see cref="FlyteConfig.ConsoleUrl"/> makes run URLs answer).</param>
    /// <returns>The running server.</returns>
    /// <exception cref="FlyteSharpException">The port is not a TCP port or cannot be listened on.</exception>
    public RunConsoleServer StartConsole(int port)
    {
        var server = new RunConsoleServer(_runStore.Value, port, Config);
        try
        {
            server.Start();
        }
        catch
        {
            // Not listening yet, so nothing to wait for: frees the listener before the error goes up.
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return server;
    }

    /// <summary>Stops this runtime from starting new runs and deploys; runs already started go on to their end.</summary>
    public void Dispose() => _disposed = true;

    /// <summary>Calls a Python task outside any run: a plain call of the function from root_dir's source.</summary>
    internal Task<object?> CallOutsideRunAsync(TaskDefinition task, object?[] inputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return PlainPythonCall.CallAsync(Config, task, inputs);
    }

    private Task<IRunConnection> StartAsync(TaskDefinition task, Func<IReadOnlyList<TaskParameter>, object?[]> bindInputs, RunOptions? options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Func<DeployedSources>? deployed = options?.Version is { } version ? () => DeployedRuns.Open(Config, version) : null;
        return RunLauncher.StartAsync(new RunEnvironment(Config, TimeProvider, _runStore.Value), task, bindInputs, options, deployed);
    }
}
