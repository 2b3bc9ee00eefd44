namespace FlyteSharp.Deploy;

/// <summary>Per-call settings for <c>FlyteRuntime.Deploy</c>; settings and root_dir belong to the runtime.</summary>
public sealed record DeployOptions
{
    /// <summary>Receives the image builder's output lines as they come.</summary>
    public Action<string>? BuildOutput { get; init; }

    /// <summary>Receives each image's stages: found in the registry (skipped), building, each builder step, built or failed.</summary>
    public Building.IImageBuildProgress? BuildProgress { get; init; }

    /// <summary>Stops the build.</summary>
    public CancellationToken CancellationToken { get; init; }
}
