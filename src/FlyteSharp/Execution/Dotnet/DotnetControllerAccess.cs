namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// How one containerised C# action reaches the driver's controller API: the worker arguments (<c>--controller …
/// --controller-token-file …</c>), the files to mount read-only (socket, token), and the registration to end when the
/// container is gone (the action is a valid parent only while it runs).
/// </summary>
/// <param name="WorkerArguments">Arguments for the worker.</param>
/// <param name="Mounts">Read-only bind mounts (host path, container path).</param>
/// <param name="Registration">Ended when the action's container has exited.</param>
internal sealed record DotnetControllerAccess(IReadOnlyList<string> WorkerArguments, IReadOnlyList<KeyValuePair<string, string>> Mounts, IDisposable Registration);
