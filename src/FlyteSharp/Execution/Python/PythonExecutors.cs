namespace FlyteSharp.Execution.Python;

/// <summary>Chooses the Python executor for a run's <see cref="ExecutionMode"/>.</summary>
internal static class PythonExecutors
{
    public static IPythonTaskExecutor Create(ExecutionMode mode, PythonExecutorContext context) => mode switch
    {
        ExecutionMode.Local => new LocalPythonExecutor(context),

        // The container executor (podman/docker, the environment's image) registers here.
        ExecutionMode.Container => throw new FlyteSharpException("container execution is not available in this build",
            fix: "run with mode = \"local\" (the default)"),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };
}
