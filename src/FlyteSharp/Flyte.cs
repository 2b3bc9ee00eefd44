using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp;

/// <summary>
/// The entry points, as in the seed: <c>Flyte.InitFromConfig(rootDir: …)</c>, then <c>await Flyte.Run(task, inputs…)</c>
/// for a local run (and <c>Flyte.Deploy</c> for production, in its own file).
/// </summary>
public static partial class Flyte
{
    private static readonly object Gate = new();
    private static FlyteConfig? _config;
    private static string? _rootDir;

    /// <summary>The settings in effect: those given to <see cref="InitFromConfig"/>, else loaded from the default places.</summary>
    public static FlyteConfig CurrentConfig
    {
        get
        {
            lock (Gate)
            {
                return _config ??= FlyteConfig.Load();
            }
        }
    }

    /// <summary>The code bundle's root directory in effect, or null when none is set.</summary>
    public static string? CurrentRootDir
    {
        get
        {
            lock (Gate)
            {
                return _rootDir ?? CurrentConfig.RootDir;
            }
        }
    }

    /// <summary>
    /// Sets root_dir and the settings for later runs (the seed's <c>flyte.init_from_config(root_dir=…)</c>). root_dir is the
    /// directory you would <c>cd</c> into before <c>python -c "import my_module"</c>: <c>src/</c> for src layouts.
    /// </summary>
    /// <param name="rootDir">The code bundle's root; overrides <c>root_dir</c> from the config file.</param>
    /// <param name="config">Settings to use; when null they are loaded (<c>flytesharp.toml</c> searched upwards from <paramref name="rootDir"/>, then <c>FLYTESHARP_*</c>).</param>
    /// <param name="configPath">An explicit config file to load when <paramref name="config"/> is null.</param>
    /// <returns>The settings in effect, with <see cref="FlyteConfig.RootDir"/> set.</returns>
    /// <exception cref="FlyteSharpException">root_dir does not exist, or the config file is invalid.</exception>
    public static FlyteConfig InitFromConfig(string? rootDir = null, FlyteConfig? config = null, string? configPath = null)
    {
        var full = rootDir is null ? null : BundleFiles.CheckRoot(rootDir);

        config ??= FlyteConfig.Load(configPath, workingDirectory: full ?? Directory.GetCurrentDirectory());
        config = config with { RootDir = full ?? config.RootDir };
        lock (Gate)
        {
            _config = config;
            _rootDir = config.RootDir;
        }

        return config;
    }

    // Flyte.Deploy(env, copyStyle, version) lives in Flyte.Deploy.cs (the containers work).

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public static async Task<Run<TOut>> Run<TOut>(FlyteTask<TOut> task, RunOptions? options = null) =>
        (Run<TOut>)await RunLauncher.StartAsync(task, [], options, info => new Run<TOut>(info)).ConfigureAwait(false);

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="T1">The first input's type.</typeparam>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="input1">The first input.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public static async Task<Run<TOut>> Run<T1, TOut>(FlyteTask<T1, TOut> task, T1 input1, RunOptions? options = null) =>
        (Run<TOut>)await RunLauncher.StartAsync(task, [input1], options, info => new Run<TOut>(info)).ConfigureAwait(false);

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
    public static async Task<Run<TOut>> Run<T1, T2, TOut>(FlyteTask<T1, T2, TOut> task, T1 input1, T2 input2, RunOptions? options = null) =>
        (Run<TOut>)await RunLauncher.StartAsync(task, [input1, input2], options, info => new Run<TOut>(info)).ConfigureAwait(false);

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
    public static async Task<Run<TOut>> Run<T1, T2, T3, TOut>(FlyteTask<T1, T2, T3, TOut> task, T1 input1, T2 input2, T3 input3, RunOptions? options = null) =>
        (Run<TOut>)await RunLauncher.StartAsync(task, [input1, input2, input3], options, info => new Run<TOut>(info)).ConfigureAwait(false);

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
    public static async Task<Run<TOut>> Run<T1, T2, T3, T4, TOut>(FlyteTask<T1, T2, T3, T4, TOut> task, T1 input1, T2 input2, T3 input3, T4 input4, RunOptions? options = null) =>
        (Run<TOut>)await RunLauncher.StartAsync(task, [input1, input2, input3, input4], options, info => new Run<TOut>(info)).ConfigureAwait(false);

    /// <summary>Starts a run of a task given untyped inputs (the CLI's path; inputs already converted to the parameter types).</summary>
    internal static Task<Run> RunUntypedAsync(TaskDefinition task, object?[] inputs, RunOptions? options = null) =>
        RunLauncher.StartAsync(task, inputs, options, info => new Run(info));

    /// <summary>Starts a run of a task given inputs as text by name (<c>--input n=10</c>): JSON values, or bare strings.</summary>
    internal static Task<Run> RunWithTextInputsAsync(TaskDefinition task, IReadOnlyDictionary<string, string> inputs, RunOptions? options = null) =>
        RunLauncher.StartAsync(task, parameters => TaskInputs.Bind(task, parameters, inputs), options, info => new Run(info));

    /// <summary>Forgets the initialized settings (tests).</summary>
    internal static void Reset()
    {
        lock (Gate)
        {
            _config = null;
            _rootDir = null;
        }
    }
}
