using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>Binds inputs given as text by parameter name to a task's typed parameters, with errors that name the parameter and its type.</summary>
internal static class TaskInputs
{
    public static object?[] Bind(TaskDefinition task, IReadOnlyList<TaskParameter> parameters, IReadOnlyDictionary<string, string> inputs)
    {
        var expected = string.Join(", ", parameters.Select(p => $"{p.Name} ({TypeNames.Describe(p.Type)})"));
        foreach (var name in inputs.Keys)
        {
            if (!parameters.Any(p => p.Name == name))
            {
                throw new FlyteSharpException($"task '{task.Name}' has no input named '{name}'",
                    fix: parameters.Count == 0 ? "this task takes no inputs; remove --input" : $"its inputs are: {expected}");
            }
        }

        var values = new object?[parameters.Count];
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            if (!inputs.TryGetValue(parameter.Name, out var text))
            {
                throw new FlyteSharpException($"input '{parameter.Name}' ({TypeNames.Describe(parameter.Type)}) of task '{task.Name}' is missing",
                    fix: $"pass --input {parameter.Name}=<value>; the task's inputs are: {expected}");
            }

            values[i] = TaskJson.ParseInput(task, parameter, text);
        }

        return values;
    }
}
