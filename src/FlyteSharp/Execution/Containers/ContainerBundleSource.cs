namespace FlyteSharp.Execution.Containers;

/// <summary>
/// How a container gets the run's code bundle: a path inside a read-only mount (file stores and local
/// archives) or an HTTP URL of the registry blob (oci:// stores; the runner downloads it).
/// </summary>
/// <param name="Source">What the runner's <c>--bundle</c> receives.</param>
/// <param name="Mounts">Bind mounts (host path, container path) the source needs, all read-only.</param>
/// <param name="HostNetwork">The container needs the host's network (a registry on the host's loopback).</param>
/// <param name="Registry">For a registry blob: the registry host and repository (to get the runner pull credentials).</param>
internal sealed record ContainerBundleSource(string Source, IReadOnlyList<(string Host, string Container)> Mounts, bool HostNetwork,
    (string Host, string Repository)? Registry = null)
{
    /// <summary>Where the store (or a lone archive) is mounted in the container.</summary>
    public const string StoreMount = "/flytesharp/store";

    /// <summary>
    /// Chooses the source for a bundle kept at <paramref name="storeUri"/> (a blob URI) or, without one,
    /// at the local <paramref name="archivePath"/>. <paramref name="storeRootUri"/> is the configured store.
    /// </summary>
    public static ContainerBundleSource For(string? storeUri, string? archivePath, string digest, string storeRootUri, IReadOnlyList<string> insecureRegistries)
    {
        if (storeUri is not null && storeUri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            var blob = new Uri(storeUri).LocalPath;
            var root = storeRootUri.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? new Uri(storeRootUri).LocalPath : null;
            if (root is not null)
            {
                var relative = Path.GetRelativePath(root, blob);
                if (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative))
                {
                    // Mount the whole store read-only: the container sees the blob exactly where the store keeps it.
                    return new ContainerBundleSource(StoreMount + "/" + relative.Replace('\\', '/'), [(Path.TrimEndingDirectorySeparator(root), StoreMount)], false);
                }
            }

            return Lone(blob);
        }

        if (storeUri is not null && storeUri.StartsWith("oci://", StringComparison.OrdinalIgnoreCase))
        {
            // oci://host[:port]/repository[@digest] -> the distribution API's blob URL.
            var rest = storeUri["oci://".Length..];
            var at = rest.IndexOf('@');
            if (at >= 0)
            {
                rest = rest[..at];
            }

            var slash = rest.IndexOf('/');
            var host = slash < 0 ? rest : rest[..slash];
            var repository = slash < 0 ? "" : rest[(slash + 1)..].TrimEnd('/');
            var hostName = host.StartsWith('[') ? host[..(host.IndexOf(']') + 1)] : host.Split(':')[0];
            var loopback = hostName is "localhost" or "127.0.0.1" or "[::1]";

            // The same rule as the registry client: plain HTTP on loopback and for insecure registries.
            var scheme = loopback || insecureRegistries.Contains(host, StringComparer.OrdinalIgnoreCase) || insecureRegistries.Contains(hostName, StringComparer.OrdinalIgnoreCase) ? "http" : "https";
            return new ContainerBundleSource($"{scheme}://{host}/v2/{repository}/blobs/{digest}", [], loopback, (host, repository));
        }

        if (storeUri is not null && (storeUri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || storeUri.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            return new ContainerBundleSource(storeUri, [], false);
        }

        if (archivePath is not null)
        {
            return Lone(Path.GetFullPath(archivePath));
        }

        throw new FlyteSharpException($"the run's code bundle {digest} has neither a store URI nor a local archive a container can read",
            fix: "set storage.uri to a file:// or oci:// store");
    }

    private static ContainerBundleSource Lone(string path)
    {
        var inContainer = StoreMount + "/" + Path.GetFileName(path);
        return new ContainerBundleSource(inContainer, [(path, inContainer)], false);
    }
}
