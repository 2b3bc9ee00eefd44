using FlyteSharp.Bundles;
using FlyteSharp.Images;

namespace FlyteSharp.Building;

/// <summary>What a registry assembly (<see cref="RegistryAssembly"/>) may use besides the image's own repository.</summary>
internal sealed record RegistryAssemblyOptions
{
    /// <summary>
    /// Other repositories of the same registry where the base image may already be (say, another environment's image
    /// with the same dependency layers): its blobs are mounted from there instead of being built or uploaded.
    /// </summary>
    public IReadOnlyList<string> BaseRepositories { get; init; } = [];

    /// <summary>
    /// Builds and pushes the base image (the layers that need a builder) into the image's repository when no repository
    /// has it; null leaves the whole image to the builder in that case.
    /// </summary>
    public Func<ResolvedImage, CancellationToken, Task>? EnsureBaseAsync { get; init; }

    /// <summary>
    /// The most files and bytes the assembled layers may hold (the code bundle's limits). Past them the builder makes the
    /// image, whose build context has no such limit.
    /// </summary>
    public ExtractionLimits Limits { get; init; } = ExtractionLimits.Default;
}
