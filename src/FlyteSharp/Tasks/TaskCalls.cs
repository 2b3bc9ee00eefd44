namespace FlyteSharp.Tasks;

/// <summary>
/// Where a task call goes. Inside a run the execution side has made an <see cref="ITaskCallContext"/> current on
/// the body's async flow, and the call becomes a child action; outside a run a C# task is a plain call of its
/// body and a Python task goes to <see cref="OutsideRun"/>, which the <c>Flyte</c> front wires to its runtime.
/// Definitions see only this seam, never the execution types behind it.
/// </summary>
internal static class TaskCalls
{
    private static readonly AsyncLocal<ITaskCallContext?> CurrentContext = new();

    /// <summary>The action whose body runs on this async flow, or null outside a run.</summary>
    public static ITaskCallContext? Current
    {
        get => CurrentContext.Value;
        set => CurrentContext.Value = value;
    }

    /// <summary>Runs a Python task called outside any run (set by the static front to its current runtime).</summary>
    public static Func<TaskDefinition, object?[], Task<object?>>? OutsideRun { get; set; }

    public static Task<object?> CallAsync(TaskDefinition task, object?[] inputs)
    {
        if (Current is { } context)
        {
            return context.CallAsync(task, inputs);
        }

        if (task.Kind == TaskKind.CSharp)
        {
            return task.InvokeBodyAsync(inputs);
        }

        return OutsideRun is { } outside
            ? outside(task, inputs)
            : throw new FlyteSharpException($"Python task {task.Name} was called outside a run and no runtime is set up to run it",
                fix: "start a run with Flyte.Run (or FlyteRuntime.Run), or call Flyte.InitFromConfig(rootDir: …) first");
    }
}
