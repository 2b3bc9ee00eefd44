namespace FlyteSharp.Building;

/// <summary>Per-call settings for <see cref="FlyteRuntime.BuildImages"/>; settings and root_dir belong to the runtime.</summary>
public sealed record ImageBuildOptions
{
    /// <summary>Build and push even when the registry already has the tag.</summary>
    public bool Force { get; init; }

    /// <summary>Receives each image's stages: found in the registry (skipped), building, each builder step, built or failed.</summary>
    public IImageBuildProgress? Progress { get; init; }

    /// <summary>The HTTP handler the registry checks go through (a proxy, custom certificates, or a test counting requests); default: a plain one.</summary>
    public HttpMessageHandler? RegistryHandler { get; init; }

    /// <summary>Stops the builds.</summary>
    public CancellationToken CancellationToken { get; init; }
}
