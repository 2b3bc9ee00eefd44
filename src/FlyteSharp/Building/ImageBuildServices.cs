using FlyteSharp.Configuration;

namespace FlyteSharp.Building;

/// <summary>Creates the registry-cached build service for a configuration.</summary>
internal static class ImageBuildServices
{
    /// <param name="config">Settings: builder, registry credentials, insecure registries, home.</param>
    /// <param name="handler">The HTTP handler registry checks go through (tests count requests with it).</param>
    /// <param name="time">The clock for timings.</param>
    /// <param name="cancellationToken">Stops builder detection.</param>
    public static async Task<ImageBuildService> CreateAsync(FlyteConfig config, HttpMessageHandler? handler = null, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new(await ImageBuilders.CreateAsync(config, cancellationToken).ConfigureAwait(false), new RegistryTagProbe(config, handler), config, time ?? TimeProvider.System);
}
