using FlyteSharp.Tasks;

namespace FlyteSharp.Worker;

/// <summary>
/// The running action as a task body inside the worker sees it (<see cref="TaskContext"/>): run, action, environment,
/// its variables and secrets as the container received them, when the worker was started without the driver's controller
/// API (<c>--controller</c>): a nested task call then fails at once with the reason, instead of running the child in the
/// container or waiting for an answer that cannot come. With the API the worker uses <c>ControllerTaskCallContext</c>.
/// </summary>
internal sealed class WorkerTaskContext(WorkerArguments arguments, TaskDefinition task, CancellationToken cancellationToken) : ITaskCallContext
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
        throw new FlyteSharpException(
            $"task '{task.Name}' runs in a container and called task '{child.Name}', but the worker has no controller API to submit it to the driver (no --controller)",
            fix: "in kubernetes mode set [kubernetes] controller_url in flytesharp.toml to the URL Pods reach the driver at (e.g. \"http://driver.example:7443\", " +
                 "with controller_listen = \"0.0.0.0:7443\"); container mode passes the API itself; or run this task in the driver (an environment without Image.FromDotnetBase)");
}
