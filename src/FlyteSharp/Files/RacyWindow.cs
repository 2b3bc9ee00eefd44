namespace FlyteSharp.Files;

/// <summary>
/// The one "racy git" rule of FlyteSharp's stat caches (bundle index, image digest cache): a file whose mtime or
/// ctime is this close to the moment its stat was trusted may still change within the same timestamp tick, so its
/// cached digest is not trusted and the file is hashed again next time.
/// </summary>
internal static class RacyWindow
{
    /// <summary>The widest window (file systems with whole-second timestamps; FAT has 2-second mtimes).</summary>
    public static TimeSpan Max { get; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The window for a file system whose timestamps look like <paramref name="timestampNs"/>: 100 ms when they carry
    /// sub-second digits (they tick with the kernel's coarse clock, a few ms), else <see cref="Max"/>.
    /// </summary>
    public static TimeSpan For(long timestampNs) => timestampNs % 1_000_000_000 != 0 ? TimeSpan.FromMilliseconds(100) : Max;

    /// <summary>
    /// True when a file stamped <paramref name="modifiedNs"/>/<paramref name="changedNs"/> is too fresh to trust at
    /// <paramref name="referenceNs"/>; the file's own mtime says how fine its file system's timestamps are.
    /// </summary>
    public static bool IsRacy(long modifiedNs, long changedNs, long referenceNs)
    {
        var threshold = referenceNs - (long)For(modifiedNs).TotalNanoseconds;
        return modifiedNs >= threshold || changedNs >= threshold;
    }
}
