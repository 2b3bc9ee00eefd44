namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// How one C# action in a container or Pod reaches the driver's controller API: the worker arguments (<c>--controller …
/// --controller-token-file …</c>), the files to mount read-only (socket, token), and the registration to end when the
/// container is gone (the action is a valid parent only while it runs).
/// </summary>
/// <param name="WorkerArguments">Arguments for the worker.</param>
/// <param name="Mounts">Read-only bind mounts (host path, container path).</param>
/// <param name="Registration">Ended when the action's container has exited.</param>
internal sealed record DotnetControllerAccess(IReadOnlyList<string> WorkerArguments, IReadOnlyList<KeyValuePair<string, string>> Mounts, IDisposable Registration)
{
    /// <summary>
    /// The run's token, for Pods: the executor puts it in the run's Kubernetes Secret and mounts that at
    /// <see cref="FlyteSharp.Controller.ControllerProtocol.ContainerTokenPath"/> (no host file can be mounted into a Pod).
    /// Null in container mode, where <see cref="Mounts"/> carries the token file.
    /// </summary>
    public Controller.ControllerToken? Token { get; init; }
}
