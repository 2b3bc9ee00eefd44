using FlyteSharp.Runner;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// Runs C# task actions of one run outside the driver (container or Kubernetes mode), with FlyteSharp's .NET worker in
/// the environment's .NET image. The reply is the runners' protocol (<see cref="RunnerProtocol"/>): a task's exception
/// comes back as <see cref="TaskReply.Error"/>, not thrown.
/// </summary>
internal interface IDotnetTaskExecutor : IAsyncDisposable
{
    /// <summary>Calls one C# task in its environment's image.</summary>
    Task<TaskReply> ExecuteAsync(DotnetTaskRequest request, CancellationToken cancellationToken);
}
