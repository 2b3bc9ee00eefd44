using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// Runs Python task actions of one run. The local implementation keeps a warm interpreter per environment;
/// a container implementation runs the environment's image with the bundle extracted at start. Both use
/// <c>flytesharp_runner.py</c>, whose protocol <see cref="RunnerProtocol"/> speaks.
/// </summary>
internal interface IPythonTaskExecutor : IAsyncDisposable
{
    /// <summary>Imports each referenced module in the environment and reports its function's signature, or why it does not resolve.</summary>
    Task<IReadOnlyList<PythonFunctionInfo>> DescribeAsync(TaskEnvironment environment, IReadOnlyList<PythonTaskReference> tasks, CancellationToken cancellationToken);

    /// <summary>Calls one Python function. Python exceptions come back as <see cref="TaskReply.Error"/>, not as thrown exceptions.</summary>
    Task<TaskReply> ExecuteAsync(PythonTaskRequest request, CancellationToken cancellationToken);
}
