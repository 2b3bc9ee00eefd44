using System.Runtime.CompilerServices;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp;

/// <summary>
/// The entry points, as in the seed: <c>Flyte.InitFromConfig(rootDir: …)</c>, then <c>await Flyte.Run(task, inputs…)</c>
/// for a local run (and <c>Flyte.Deploy</c> for production, in its own file). A thin static front (Serilog's
/// <c>Log</c> shape) over <see cref="Runtime"/>, a replaceable <see cref="FlyteRuntime"/> instance that does the work.
/// </summary>
public static partial class Flyte
{
    private static readonly Lock Gate = new();
    private static FlyteRuntime? _runtime;

    /// <summary>
    /// The runtime the static entry points use: the one given to <see cref="InitFromConfig"/> or set here, else one
    /// over the settings loaded from the default places (created on first use).
    /// </summary>
    public static FlyteRuntime Runtime
    {
        get
        {
            lock (Gate)
            {
                return _runtime ??= FlyteRuntime.FromConfig();
            }
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (Gate)
            {
                _runtime = value;
            }
        }
    }

    /// <summary>The settings in effect: those of <see cref="Runtime"/>.</summary>
    public static FlyteConfig CurrentConfig => Runtime.Config;

    /// <summary>
    /// Sets root_dir and the settings for later runs (the seed's <c>flyte.init_from_config(root_dir=…)</c>) by making
    /// <see cref="Runtime"/> a new runtime over them. root_dir is the directory you would <c>cd</c> into before
    /// <c>python -c "import my_module"</c>: <c>src/</c> for src layouts.
    /// </summary>
    /// <param name="rootDir">The code bundle's root; overrides <c>root_dir</c> from the config file.</param>
    /// <param name="config">Settings to use; when null they are loaded (<c>flytesharp.toml</c> searched upwards from <paramref name="rootDir"/>, then <c>FLYTESHARP_*</c>).</param>
    /// <param name="configPath">An explicit config file to load when <paramref name="config"/> is null.</param>
    /// <returns>The settings in effect, with <see cref="FlyteConfig.RootDir"/> set.</returns>
    /// <exception cref="FlyteSharpException">root_dir does not exist, or the config file is invalid.</exception>
    public static FlyteConfig InitFromConfig(string? rootDir = null, FlyteConfig? config = null, string? configPath = null)
    {
        var runtime = FlyteRuntime.FromConfig(rootDir, config, configPath);
        Runtime = runtime;
        return runtime.Config;
    }

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) on the current <see cref="Runtime"/> and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public static Task<Run<TOut>> Run<TOut>(FlyteTask<TOut> task, RunOptions? options = null) =>
        Runtime.Run(task, options);

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) on the current <see cref="Runtime"/> and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="T1">The first input's type.</typeparam>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="input1">The first input.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public static Task<Run<TOut>> Run<T1, TOut>(FlyteTask<T1, TOut> task, T1 input1, RunOptions? options = null) =>
        Runtime.Run(task, input1, options);

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) on the current <see cref="Runtime"/> and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
    /// <typeparam name="T1">The first input's type.</typeparam>
    /// <typeparam name="T2">The second input's type.</typeparam>
    /// <typeparam name="TOut">The output's type.</typeparam>
    /// <param name="task">The root task.</param>
    /// <param name="input1">The first input.</param>
    /// <param name="input2">The second input.</param>
    /// <param name="options">Run name, mode, concurrency, clock, cancellation.</param>
    /// <returns>The run: its name, URL, status and output.</returns>
    /// <exception cref="FlyteSharpException">A Python task does not resolve in the code bundle, Python is missing, or an input cannot be carried as JSON.</exception>
    public static Task<Run<TOut>> Run<T1, T2, TOut>(FlyteTask<T1, T2, TOut> task, T1 input1, T2 input2, RunOptions? options = null) =>
        Runtime.Run(task, input1, input2, options);

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) on the current <see cref="Runtime"/> and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
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
    public static Task<Run<TOut>> Run<T1, T2, T3, TOut>(FlyteTask<T1, T2, T3, TOut> task, T1 input1, T2 input2, T3 input3, RunOptions? options = null) =>
        Runtime.Run(task, input1, input2, input3, options);

    /// <summary>Starts a run of <paramref name="task"/> (the seed's <c>flyte.run(task, …)</c>) on the current <see cref="Runtime"/> and returns once it is recorded; await <see cref="Run{TOut}.GetOutputAsync"/> for the output.</summary>
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
    public static Task<Run<TOut>> Run<T1, T2, T3, T4, TOut>(FlyteTask<T1, T2, T3, T4, TOut> task, T1 input1, T2 input2, T3 input3, T4 input4, RunOptions? options = null) =>
        Runtime.Run(task, input1, input2, input3, input4, options);

    /// <summary>Python tasks called outside any run go to the current runtime (the front is the only place that knows it).</summary>
#pragma warning disable CA2255 // The wiring must exist before any task is called, and only the front may name the default runtime.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void WireOutsideRunCalls() => TaskCalls.OutsideRun = (task, inputs) => Runtime.CallOutsideRunAsync(task, inputs);
}
