// One of the five typed task handles (0 to 4 inputs, FlyteTask.Arity0.cs to FlyteTask.Arity4.cs): keep their shapes in step.
namespace FlyteSharp.Tasks;

/// <summary>A task with 2 input(s) and an output of type <typeparamref name="TOut"/>; call it with <see cref="InvokeAsync"/>.</summary>
/// <typeparam name="T1">The first input's type.</typeparam>
/// <typeparam name="T2">The second input's type.</typeparam>
/// <typeparam name="TOut">The output's type.</typeparam>
public sealed class FlyteTask<T1, T2, TOut> : TaskDefinition
{
    private readonly Func<T1, T2, Task<TOut>>? _body;

    internal FlyteTask(TaskEnvironment environment, string name, Func<T1, T2, Task<TOut>> body, TaskOptions? options)
        : base(environment, name, TaskKind.CSharp, [typeof(T1), typeof(T2)], typeof(TOut), options, DelegateParameters.Names(body, 2), null)
    {
        _body = body;
    }

    internal FlyteTask(TaskEnvironment environment, PythonTaskReference python, TaskOptions? options, IReadOnlyList<string>? parameterNames)
        : base(environment, python.ToString(), TaskKind.Python, [typeof(T1), typeof(T2)], typeof(TOut), options, parameterNames, python)
    {
    }

    /// <summary>Calls the task: inside a run this creates a child action; outside a run it is a plain call.</summary>
    /// <param name="input1">The first input.</param>
    /// <param name="input2">The second input.</param>
    /// <returns>The task's output.</returns>
    public Task<TOut> InvokeAsync(T1 input1, T2 input2) => CallAsync<TOut>([input1, input2]);

    internal override Delegate? Body => _body;

    internal override Task<object?> InvokeBodyAsync(object?[] inputs) =>
        _body is null ? throw new InvalidOperationException("Python tasks run through a Python executor") : DelegateParameters.Box(_body((T1)inputs[0]!, (T2)inputs[1]!));
}
