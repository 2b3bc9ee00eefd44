namespace FlyteSharp.Building;

/// <summary>
/// Builds an image from a rendered build context and pushes it. Implementations drive a container
/// tool's command line (podman, docker buildx); get one from <see cref="ImageBuilders.CreateAsync"/>.
/// </summary>
public interface IImageBuilder
{
    /// <summary>The tool's name, e.g. <c>podman</c> or <c>docker</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Builds <paramref name="request"/>'s context, tags it with its image URI and, when
    /// <see cref="ImageBuildRequest.Push"/> is set, pushes it.
    /// </summary>
    /// <exception cref="ImageBuildException">The build or the push failed; the message holds the builder's error.</exception>
    Task BuildAsync(ImageBuildRequest request, CancellationToken cancellationToken = default);

    /// <summary>True when the builder's local image store holds <paramref name="imageUri"/>.</summary>
    Task<bool> ExistsLocallyAsync(string imageUri, CancellationToken cancellationToken = default);
}
