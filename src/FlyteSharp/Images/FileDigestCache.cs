using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace FlyteSharp.Images;

/// <summary>
/// Per-process cache of file content digests (SHA-256), so tagging an image a second time does not
/// re-read files that did not change.
/// </summary>
/// <remarks>
/// A cached digest is reused only while the file's identity is unchanged: full path, length,
/// modification time and, on Linux, inode, device and status-change time (ctime, from statx).
/// Writing a file always updates its mtime and ctime; ctime cannot be set back by user code
/// (touch/utime only move mtime), and replacing a file by rename gives a new inode — so any edit is
/// seen even when the size stays the same and the mtime is forged. One hole remains: an edit within
/// the file system's timestamp granularity right after we cached the file. As git does ("racy git"),
/// files whose ctime/mtime is less than <see cref="RacyWindow"/> old are hashed but not cached.
/// </remarks>
internal sealed class FileDigestCache(TimeProvider time)
{
    /// <summary>Files changed this recently are never cached (timestamp granularity safety margin).</summary>
    public static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, (FileIdentity Identity, byte[] Digest)> _entries = new(StringComparer.Ordinal);
    private long _filesRead;
    private long _bytesRead;

    /// <summary>The process-wide cache used by <see cref="Image.Resolve(ImageResolveOptions)"/>.</summary>
    public static FileDigestCache Shared { get; } = new(TimeProvider.System);

    /// <summary>How many files were read (cache misses) since creation.</summary>
    public long FilesRead => Interlocked.Read(ref _filesRead);

    /// <summary>How many bytes were read since creation.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Forgets every entry (benchmarks use it to measure cold runs).</summary>
    public void Clear() => _entries.Clear();

    /// <summary>The SHA-256 of the file's bytes, from the cache when the file is unchanged.</summary>
    public byte[] Sha256(string fullPath)
    {
        var before = FileIdentity.Of(fullPath);
        if (_entries.TryGetValue(fullPath, out var entry) && entry.Identity == before)
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
        var newest = Math.Max(after.ModifiedNs, after.ChangedNs);
        var nowNs = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
        if (after == before && nowNs - newest >= RacyWindow.Ticks * 100)
        {
            _entries[fullPath] = (after, digest);
        }

        return digest;
    }

    /// <summary>What identifies one version of a file without reading it.</summary>
    internal readonly record struct FileIdentity(long Length, long ModifiedNs, long ChangedNs, ulong Inode, ulong Device)
    {
        public static FileIdentity Of(string path)
        {
            if (OperatingSystem.IsLinux() && Statx.TryGet(path, out var id))
            {
                return id;
            }

            var info = new FileInfo(path);
            var mtime = (info.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100;
            return new FileIdentity(info.Length, mtime, mtime, 0, 0);
        }
    }

    private static class Statx
    {
        private const int AtFdCwd = -100;
        private const uint BasicStats = 0x7ff;
        private static bool _unavailable;

        public static bool TryGet(string path, out FileIdentity identity)
        {
            identity = default;
            if (_unavailable || !BitConverter.IsLittleEndian)
            {
                return false;
            }

            var buffer = new byte[256];
            int rc;
            try
            {
                rc = NativeStatx(AtFdCwd, path, 0, BasicStats, buffer);
            }
            catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
            {
                _unavailable = true;
                return false;
            }

            if (rc != 0)
            {
                throw new FileNotFoundException($"cannot stat {path} (errno {Marshal.GetLastPInvokeError()})", path);
            }

            // struct statx (linux/stat.h) has the same layout on every architecture.
            var b = buffer.AsSpan();
            static long Time(ReadOnlySpan<byte> s) => BinaryPrimitives.ReadInt64LittleEndian(s) * 1_000_000_000L + BinaryPrimitives.ReadUInt32LittleEndian(s[8..]);
            var device = ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(b[136..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(b[140..]);
            identity = new FileIdentity(
                Length: (long)BinaryPrimitives.ReadUInt64LittleEndian(b[40..]),
                ModifiedNs: Time(b[112..]),
                ChangedNs: Time(b[96..]),
                Inode: BinaryPrimitives.ReadUInt64LittleEndian(b[32..]),
                Device: device);
            return true;
        }

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern int NativeStatx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
    }
}
