// One of the five typed task handles (0 to 4 inputs, FlyteTask.Arity0.cs to FlyteTask.Arity4.cs): keep their shapes in step.
namespace FlyteSharp.Tasks;

/// <summary>A task with 0 input(s) and an output of type <typeparamref name="TOut"/>; call it with <see cref="InvokeAsync"/>.</summary>
/// <typeparam name="TOut">The output's type.</typeparam>
public sealed class FlyteTask<TOut> : TaskDefinition
{
    private readonly Func<Task<TOut>>? _body;

    internal FlyteTask(TaskEnvironment environment, string name, Func<Task<TOut>> body, TaskOptions? options)
        : base(environment, name, TaskKind.CSharp, [], typeof(TOut), options, DelegateParameters.Names(body, 0), null)
    {
        _body = body;
    }

    internal FlyteTask(TaskEnvironment environment, PythonTaskReference python, TaskOptions? options, IReadOnlyList<string>? parameterNames)
        : base(environment, python.ToString(), TaskKind.Python, [], typeof(TOut), options, parameterNames, python)
    {
    }

    /// <summary>Calls the task: inside a run this creates a child action; outside a run it is a plain call.</summary>
    /// <returns>The task's output.</returns>
    public Task<TOut> InvokeAsync() => CallAsync<TOut>([]);

    internal override Delegate? Body => _body;

    internal override Task<object?> InvokeBodyAsync(object?[] inputs) =>
        _body is null ? throw new InvalidOperationException("Python tasks run through a Python executor") : DelegateParameters.Box(_body());
}
