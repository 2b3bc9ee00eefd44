namespace FlyteSharp.Bundles;

/// <summary>Caps that stop a hostile or broken archive from filling the disk (checked before anything is written).</summary>
public sealed record ExtractionLimits
{
    /// <summary>Most entries (files and directories) an archive may hold. Default 100,000.</summary>
    public int MaxEntries { get; init; } = 100_000;

    /// <summary>Most bytes all files together may hold once unpacked. Default 4 GiB.</summary>
    public long MaxTotalBytes { get; init; } = 4L << 30;

    /// <summary>The defaults.</summary>
    public static ExtractionLimits Default { get; } = new();
}
