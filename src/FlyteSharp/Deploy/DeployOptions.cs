using FlyteSharp.Configuration;

namespace FlyteSharp.Deploy;

/// <summary>Settings for one <c>Flyte.Deploy</c> call; everything defaults to the initialized configuration.</summary>
public sealed record DeployOptions
{
    /// <summary>Settings for this deploy instead of the ones given to <see cref="Flyte.InitFromConfig"/>.</summary>
    public FlyteConfig? Config { get; init; }

    /// <summary>The code's root directory (what <c>WithCodeBundle()</c> copies) instead of the initialized one.</summary>
    public string? RootDir { get; init; }

    /// <summary>Receives the image builder's output lines as they come.</summary>
    public Action<string>? BuildOutput { get; init; }

    /// <summary>Stops the build.</summary>
    public CancellationToken CancellationToken { get; init; }
}
