using System.Text.Json;
using System.Text.Json.Nodes;
using FlyteSharp.Tasks;

namespace FlyteSharp.Controller;

/// <summary>
/// The running action as a task body outside the driver sees it: the worker makes it current (<see cref="TaskCalls.Current"/>)
/// while the body runs, so <c>await OtherTask.InvokeAsync(…)</c> becomes a child action in the driver, reached through the
/// controller API. Inputs go by parameter name, or by position for a Python task whose parameter names this process has
/// not learned (the driver learns them from the function's signature).
/// </summary>
internal sealed class ControllerTaskCallContext : ITaskCallContext
{
    private readonly ControllerClient _client;
    private readonly Func<string, string?> _findSecret;

    /// <summary>Creates the context of one attempt of one action.</summary>
    /// <param name="client">The client of the driver's controller API.</param>
    /// <param name="runName">The run's name.</param>
    /// <param name="actionId">The action's id (the driver registered it as a parent).</param>
    /// <param name="attempt">The 1-based attempt number.</param>
    /// <param name="environmentName">The action's environment.</param>
    /// <param name="environmentVariables">The environment's variables.</param>
    /// <param name="cancellationToken">Cancelled on timeout or cancellation.</param>
    /// <param name="findSecret">Finds one of the environment's secrets by key (null: none).</param>
    public ControllerTaskCallContext(ControllerClient client, string runName, string actionId, int attempt, string environmentName,
        IReadOnlyDictionary<string, string> environmentVariables, CancellationToken cancellationToken, Func<string, string?>? findSecret = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        RunName = runName;
        ActionId = actionId;
        Attempt = attempt;
        EnvironmentName = environmentName;
        EnvironmentVariables = environmentVariables;
        CancellationToken = cancellationToken;
        _findSecret = findSecret ?? (_ => null);
    }

    /// <inheritdoc/>
    public string RunName { get; }

    /// <inheritdoc/>
    public string ActionId { get; }

    /// <inheritdoc/>
    public int Attempt { get; }

    /// <inheritdoc/>
    public CancellationToken CancellationToken { get; }

    /// <inheritdoc/>
    public string EnvironmentName { get; }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> EnvironmentVariables { get; }

    /// <inheritdoc/>
    public string? FindSecret(string key) => _findSecret(key);

    /// <inheritdoc/>
    public async Task<object?> CallAsync(TaskDefinition task, object?[] inputs)
    {
        ArgumentNullException.ThrowIfNull(task);
        CancellationToken.ThrowIfCancellationRequested();
        var inputsJson = task.Parameters is { } parameters ? TaskJson.SerializeInputs(task, parameters, inputs) : Positional(task, inputs);
        var output = await _client.CallChildAsync(ActionId, task.Name, inputsJson, CancellationToken, task.Environment.Name).ConfigureAwait(false);
        return TaskJson.DeserializeOutput(task, output);
    }

    private static string Positional(TaskDefinition task, object?[] inputs)
    {
        var array = new JsonArray();
        for (var i = 0; i < inputs.Length; i++)
        {
            try
            {
                array.Add(JsonSerializer.SerializeToNode(inputs[i], task.InputTypes[i], TaskJson.Options));
            }
            catch (Exception ex) when (ex is NotSupportedException or ArgumentException or JsonException or InvalidOperationException)
            {
                throw new FlyteSharpException(
                    $"input {i + 1} of task '{task.Name}' ({TypeNames.Describe(task.InputTypes[i])}) cannot be carried as JSON: {ex.Message}",
                    fix: "pass numbers, strings, bools, lists, dictionaries or records of those");
            }
        }

        return array.ToJsonString(TaskJson.Options);
    }
}
