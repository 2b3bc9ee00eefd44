using FlyteSharp.Execution.Python;

namespace FlyteSharp.Execution;

/// <summary>A run's Python side: its bundle and executor.</summary>
internal sealed record PythonRuntime(PythonBundle Bundle, IPythonTaskExecutor Executor, string? RootDir);
