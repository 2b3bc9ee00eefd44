namespace FlyteSharp.Execution.Containers;

/// <summary>A task's container was killed because it used more memory than its environment's <c>Resources.Memory</c>.</summary>
public sealed class ContainerOutOfMemoryException : FlyteSharpException
{
    /// <summary>Creates the error for <paramref name="task"/> in <paramref name="environment"/> with its memory limit.</summary>
    public ContainerOutOfMemoryException(string task, string environment, string? memoryLimit)
        : base($"task {task} (environment '{environment}') ran out of memory: its container was killed by the memory limit" +
               (memoryLimit is null ? "" : $" ({memoryLimit})"),
            fix: $"raise Resources.Memory of environment '{environment}', or make the task use less memory")
    {
        Task = task;
        Environment = environment;
        MemoryLimit = memoryLimit;
    }

    /// <summary>The task that ran out of memory.</summary>
    public string Task { get; }

    /// <summary>The task environment it ran in.</summary>
    public string Environment { get; }

    /// <summary>The memory limit it hit, e.g. <c>64Mi</c>.</summary>
    public string? MemoryLimit { get; }
}
