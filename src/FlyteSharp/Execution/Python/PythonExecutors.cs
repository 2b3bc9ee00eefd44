namespace FlyteSharp.Execution.Python;

/// <summary>Chooses the Python executor for a run's <see cref="ExecutionMode"/>.</summary>
internal static class PythonExecutors
{
    public static IPythonTaskExecutor Create(ExecutionMode mode, PythonExecutorContext context) => mode switch
    {
        ExecutionMode.Local => new LocalPythonExecutor(context),

        ExecutionMode.Container => Containers.ContainerPythonExecutor.Create(context),
        ExecutionMode.Kubernetes => Kubernetes.KubernetesPythonExecutor.Create(context),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };
}
