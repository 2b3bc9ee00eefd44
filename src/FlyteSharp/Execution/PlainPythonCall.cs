using FlyteSharp.Configuration;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Sandboxes;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>
/// A Python task called outside any run: a plain call of the function from root_dir's source (no bundle, no
/// run record), like calling the Python function directly.
/// </summary>
internal static class PlainPythonCall
{
    public static async Task<object?> CallAsync(FlyteConfig config, TaskDefinition task, object?[] inputs)
    {
        var rootDir = config.RootDir ?? throw new FlyteSharpException(
            $"Python task {task.Name} was called outside a run, but root_dir is not set",
            fix: "call Flyte.InitFromConfig(rootDir: …) first, or start a run with Flyte.Run");
        var sandbox = RunSandbox.Create(config.Home, "plain", TimeProvider.System.GetUtcNow());
        var bundle = new PythonBundle("source", null, null, rootDir);
        var executor = new LocalPythonExecutor(new PythonExecutorContext("plain", sandbox, bundle, config, rootDir));
        try
        {
            if (task.Parameters is null)
            {
                await PythonTaskChecker.CheckAsync(executor, [task], rootDir, CancellationToken.None).ConfigureAwait(false);
            }

            var inputsJson = TaskJson.SerializeInputs(task, task.Parameters!, inputs);
            var result = await executor.ExecuteAsync(
                new PythonTaskRequest(task.Python!, task.Environment, inputsJson, "plain", (stream, line) => (stream == "stdout" ? Console.Out : Console.Error).WriteLine(line)),
                CancellationToken.None).ConfigureAwait(false);
            if (result.Error is { } e)
            {
                throw PythonTaskException.From(task.Name, e);
            }

            // A large output came back in a file: read it with the streaming deserializer (no store outside a run).
            return result.OutputFile is { } file
                ? await RunOutputs.ReadValueAsync(task, new TaskPayload(null, null, file), config, CancellationToken.None).ConfigureAwait(false)
                : TaskJson.DeserializeOutput(task, result.OutputJson!);
        }
        finally
        {
            await executor.DisposeAsync().ConfigureAwait(false);
            RunSandbox.TryDelete(sandbox);
        }
    }
}
