namespace FlyteSharp.Building;

/// <summary>What a registry assembly put together.</summary>
/// <param name="ManifestDigest">The image manifest's digest (<c>sha256:…</c>).</param>
/// <param name="BaseUri">The base image (registry, repository where it was found, tag).</param>
/// <param name="FileLayers">Layers written (one per <c>COPY</c>, plus one per <c>WORKDIR</c> that had to create its folder).</param>
/// <param name="ConfigOnlyInstructions">Instructions that changed only the image config (<c>ENV</c>, <c>WORKDIR</c> of an existing folder).</param>
/// <param name="BlobsMounted">Base blobs the registry mounted from another repository.</param>
/// <param name="BlobsCopied">Base blobs copied from another repository because the registry answered a mount with an upload session.</param>
/// <param name="BaseBuilt">Whether the base had to be built first.</param>
internal sealed record RegistryAssemblyResult(string ManifestDigest, string BaseUri, int FileLayers, int ConfigOnlyInstructions, int BlobsMounted, int BlobsCopied, bool BaseBuilt)
{
    /// <summary>The config digest of the base the image was put on (<c>sha256:…</c>; a local image's ID when it is that image).</summary>
    public string BaseConfigDigest { get; init; } = "";
}
