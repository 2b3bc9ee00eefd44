namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// What a replica Pod runs (<see cref="ReusablePods"/>): the serve loop of the Python runner or of the .NET worker, each
/// pulling its requests from the driver's controller API with the same protocol, so one engine starts, pools, reloads and
/// retires the Pods of both.
/// </summary>
/// <param name="Kind">The program's kind (<c>python</c>, <c>dotnet</c>): part of what a shared Pod is keyed by.</param>
/// <param name="Code">What the call needs the Pod to serve: a bundle digest, or a name for code baked into the image.</param>
/// <param name="Command">
/// The container's command for (controller URL as Pods reach it, replica id, shared): it pulls as that replica; a shared
/// Pod (<see cref="Tasks.ReuseScope.Global"/>) pulls from the process's hub, not from one run's controller.
/// </param>
/// <param name="Reload">The serve request that makes a Pod serving other code serve <paramref name="Code"/>.</param>
internal sealed record ReplicaPodProgram(string Kind, string Code, Func<string, string, bool, IReadOnlyList<string>> Command, Func<Dictionary<string, object?>> Reload);
