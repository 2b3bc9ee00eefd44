using FlyteSharp.Tasks;

namespace FlyteSharp.Worker;

/// <summary>
/// The running action as a task body inside the worker sees it (<see cref="TaskContext"/>): run, action, environment,
/// its variables and secrets as the container received them. Nested task calls go to <paramref name="callChild"/>
/// (the driver's controller API) or, without one, fail with the reason instead of running the child in the container.
/// </summary>
internal sealed class WorkerTaskContext(WorkerArguments arguments, TaskDefinition task, CancellationToken cancellationToken,
    Func<TaskDefinition, object?[], Task<object?>>? callChild) : ITaskCallContext
{
    public string RunName => arguments.Run;

    public string ActionId => arguments.Action;

    public int Attempt => 1;

    public CancellationToken CancellationToken => cancellationToken;

    public string EnvironmentName => task.Environment.Name;

    public IReadOnlyDictionary<string, string> EnvironmentVariables => task.Environment.EnvVars;

    public string? FindSecret(string key)
    {
        foreach (var secret in task.Environment.Secrets)
        {
            if (secret.Key != key && secret.DisplayName != key)
            {
                continue;
            }

            if (secret.FilePath is { } file && File.Exists(file))
            {
                return File.ReadAllText(file);
            }

            return secret.EnvironmentVariable is { } variable ? Environment.GetEnvironmentVariable(variable) : null;
        }

        return null;
    }

    public Task<object?> CallAsync(TaskDefinition child, object?[] inputs) =>
        callChild is not null
            ? callChild(child, inputs)
            : throw new FlyteSharpException(
                $"task '{task.Name}' runs in a container and called task '{child.Name}', but the worker has no controller API to submit it to the driver (no --controller)",
                fix: "nested calls from a containerised C# task need the driver's controller API; run this task in the driver (an environment without Image.FromDotnetBase, or local mode) until it is available");
}
