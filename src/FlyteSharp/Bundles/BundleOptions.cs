using FlyteSharp.Configuration;

namespace FlyteSharp.Bundles;

/// <summary>Options of <see cref="CodeBundler.CreateAsync"/>.</summary>
public sealed record BundleOptions
{
    /// <summary>
    /// The deflate level used unless set: 4. The runtime's zlib-ng at level 4 made the generated
    /// 5,000-file / 112 MB benchmark tree about 20% faster than level 6 for 0.8% more bytes (39.1 vs 38.8 MB;
    /// <c>tar -czf</c>, i.e. GNU gzip -6, gave 39.6 MB), while level 1 was faster again but 39% larger,
    /// which every upload would pay for. Changing it changes every bundle's digest.
    /// </summary>
    public const int DefaultCompressionLevel = 4;

    /// <summary>Where archives and the per-root_dir index live; default <c>{FLYTESHARP_HOME or ~/.flytesharp}/cache/bundles</c>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Deflate level 1–9. Part of the bundle's identity: a different level gives different bytes.</summary>
    public int CompressionLevel { get; init; } = DefaultCompressionLevel;

    /// <summary>Receives progress while files are archived (not called on a warm cache hit).</summary>
    public IProgress<BundleProgress>? Progress { get; init; }

    /// <summary>Receives warnings, e.g. a root_dir that is a file system root or a home directory.</summary>
    public Action<string>? Warning { get; init; }

    /// <summary>Test hook: called with the path of every file whose content is read.</summary>
    internal Action<string>? FileRead { get; init; }

    /// <summary>Options whose cache lives under <paramref name="config"/>'s home.</summary>
    public static BundleOptions For(FlyteConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new BundleOptions { CacheDirectory = DefaultCacheDirectory(config.Home) };
    }

    internal string EffectiveCacheDirectory =>
        CacheDirectory ?? DefaultCacheDirectory(Environment.GetEnvironmentVariable("FLYTESHARP_HOME") is { Length: > 0 } h ? h : new FlyteConfig().Home);

    private static string DefaultCacheDirectory(string home) => Path.Combine(Path.GetFullPath(home), "cache", "bundles");
}
