using System.Collections.Concurrent;
using FlyteSharp.Configuration;
using FlyteSharp.Registry;

namespace FlyteSharp.Building;

/// <summary>
/// Checks tags with the OCI distribution API (<c>HEAD /v2/&lt;name&gt;/manifests/&lt;tag&gt;</c>) through
/// <see cref="OciRegistryClient"/>: credentials from the docker/podman auth files, bearer challenges answered, and the
/// same retry policy as every other registry call (<see cref="RegistryRetry"/>).
/// </summary>
internal sealed class RegistryTagProbe(FlyteConfig config, HttpMessageHandler? handler = null) : IImageTagProbe, IDisposable
{
    private readonly ConcurrentDictionary<string, OciRegistryClient> _clients = new(StringComparer.OrdinalIgnoreCase);

    public async Task<bool> ExistsAsync(string registry, string repository, string tag, CancellationToken cancellationToken)
    {
        // A registry may carry a path prefix (host/team): it belongs to the repository name on the wire.
        var slash = registry.IndexOf('/');
        var host = slash < 0 ? registry : registry[..slash];
        var client = _clients.GetOrAdd(host, h => new OciRegistryClient(h, config, handler));
        return await client.ManifestExistsAsync(repository, tag, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }

    /// <summary>True when <paramref name="registry"/> is reached over plain HTTP: listed as insecure, or on loopback.</summary>
    public static bool IsInsecure(string registry, FlyteConfig config)
    {
        var slash = registry.IndexOf('/');
        return OciRegistryClient.IsInsecure(slash < 0 ? registry : registry[..slash], config);
    }
}
