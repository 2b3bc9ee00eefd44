using System.Collections.Concurrent;
using System.Security.Cryptography;
using FlyteSharp.Files;

namespace FlyteSharp.Images;

/// <summary>
/// Per-process cache of file content digests (SHA-256), so tagging an image a second time does not
/// re-read files that did not change.
/// </summary>
/// <remarks>
/// A cached digest is reused only while the file's identity is unchanged: length, modification time and, on Linux,
/// inode, device and status-change time (ctime), from the same stat the
/// <see cref="FileWalker"/> took while selecting the file (so a warm tag costs one stat per file, no more).
/// Writing a file always updates its mtime and ctime; ctime cannot be set back by user code
/// (touch/utime only move mtime), and replacing a file by rename gives a new inode — so any edit is
/// seen even when the size stays the same and the mtime is forged. One hole remains: an edit within
/// the file system's timestamp granularity right after we cached the file. As git does ("racy git"),
/// files whose ctime/mtime is within <see cref="Files.RacyWindow"/> of now are hashed but not cached.
/// Entries are keyed by device and inode where the platform gives them (two paths to one inode are one content), else by
/// full path: a warm tag looks up every file, and a pair of numbers hashes and compares far cheaper than a long path.
/// </remarks>
internal sealed class FileDigestCache(TimeProvider time)
{
    /// <summary>Files changed at most this recently are never cached (the widest <see cref="Files.RacyWindow"/>).</summary>
    public static TimeSpan RacyWindow => Files.RacyWindow.Max;

    private readonly ConcurrentDictionary<(ulong Device, ulong Inode), (FileIdentity Identity, byte[] Digest)> _byInode = new();
    private readonly ConcurrentDictionary<string, (FileIdentity Identity, byte[] Digest)> _byPath = new(StringComparer.Ordinal);
    private long _filesRead;
    private long _bytesRead;

    /// <summary>The process-wide cache used by <see cref="Image.Resolve(ImageResolveOptions)"/>.</summary>
    public static FileDigestCache Shared { get; } = new(TimeProvider.System);

    /// <summary>How many files were read (cache misses) since creation.</summary>
    public long FilesRead => Interlocked.Read(ref _filesRead);

    /// <summary>How many bytes were read since creation.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Forgets every entry (benchmarks use it to measure cold runs).</summary>
    public void Clear()
    {
        _byInode.Clear();
        _byPath.Clear();
    }

    /// <summary>The SHA-256 of the file's bytes, from the cache when the file is unchanged.</summary>
    /// <param name="fullPath">The file.</param>
    /// <param name="stat">Its stat from the walk that selected it (following a symlink), or null to stat it here.</param>
    public byte[] Sha256(string fullPath, StatInfo? stat = null)
    {
        var before = stat is { } st ? FileIdentity.From(st) : FileIdentity.Of(fullPath);
        if ((before.Inode != 0 ? _byInode.TryGetValue((before.Device, before.Inode), out var entry) : _byPath.TryGetValue(fullPath, out entry)) &&
            entry.Identity == before)
        {
            return entry.Digest;
        }

        byte[] digest;
        long length;
        using (var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan))
        {
            digest = SHA256.HashData(stream);
            length = stream.Length;
        }

        Interlocked.Increment(ref _filesRead);
        Interlocked.Add(ref _bytesRead, length);
        var after = FileIdentity.Of(fullPath);
        var nowNs = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
        if (after == before && !Files.RacyWindow.IsRacy(after.ModifiedNs, after.ChangedNs, nowNs))
        {
            if (after.Inode != 0)
            {
                _byInode[(after.Device, after.Inode)] = (after, digest);
            }
            else
            {
                _byPath[fullPath] = (after, digest);
            }
        }

        return digest;
    }

    /// <summary>What identifies one version of a file without reading it.</summary>
    internal readonly record struct FileIdentity(long Length, long ModifiedNs, long ChangedNs, ulong Inode, ulong Device)
    {
        public static FileIdentity Of(string path)
        {
            if (UnixStat.TryStat(path, followLinks: true, out var st))
            {
                return From(st);
            }

            var info = new FileInfo(path);
            var mtime = (info.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100;
            return new FileIdentity(info.Length, mtime, mtime, 0, 0);
        }

        public static FileIdentity From(StatInfo st) => new(
            st.Size, st.MTimeSeconds * 1_000_000_000 + st.MTimeNanoseconds, st.CTimeSeconds * 1_000_000_000 + st.CTimeNanoseconds, st.Inode, st.Device);
    }
}
