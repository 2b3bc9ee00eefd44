namespace FlyteSharp.Building;

/// <summary>One image to build: where its context is, what to tag it, and whether to push it.</summary>
/// <param name="ContextDirectory">The rendered build context (holds the files the Dockerfile copies).</param>
/// <param name="DockerfilePath">The Dockerfile, usually <c>{ContextDirectory}/Dockerfile</c>.</param>
/// <param name="ImageUri">Full image reference to tag, e.g. <c>localhost:5000/flytesharp:3f2a…</c>.</param>
/// <param name="Push">Push after building (the image names a registry).</param>
/// <param name="InsecureRegistry">Talk to the registry over plain HTTP / without TLS verification.</param>
/// <param name="Output">Receives each line the builder prints, as it prints it; null to only capture.</param>
public sealed record ImageBuildRequest(
    string ContextDirectory,
    string DockerfilePath,
    string ImageUri,
    bool Push,
    bool InsecureRegistry = false,
    Action<string>? Output = null)
{
    /// <summary>
    /// Receives each step the builder starts, once: a Dockerfile instruction as <c>STEP 3/7: RUN …</c> (the builder's
    /// own numbering) and the push as <c>PUSH {ImageUri}</c>. Null when nobody follows the steps.
    /// </summary>
    public Action<string>? Step { get; init; }
}
