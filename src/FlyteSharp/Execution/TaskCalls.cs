using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>Where a task call goes: a child action of the current action inside a run, a plain call outside one.</summary>
internal static class TaskCalls
{
    public static Task<object?> CallAsync(TaskDefinition task, object?[] inputs)
    {
        if (ActionScope.Current is { } scope)
        {
            return scope.Controller.CallChildAsync(scope, task, inputs);
        }

        return task.Kind == TaskKind.CSharp ? task.InvokeBodyAsync(inputs) : PlainPythonCall.CallAsync(task, inputs);
    }
}
