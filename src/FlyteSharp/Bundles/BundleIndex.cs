using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using FlyteSharp.Files;

namespace FlyteSharp.Bundles;

/// <summary>
/// What the last build of one root_dir saw: per file its stat fingerprint (size, mtime, ctime, inode,
/// device, exec bit) and a content hash, plus the archive's digest. A rebuild whose selection and
/// fingerprints all match returns that digest without reading any file.
/// </summary>
/// <remarks>
/// Why that is safe: any write to a file updates its mtime and ctime; ctime cannot be set from user space
/// (restoring an mtime with <c>touch -d</c> bumps it), and replacing a file (editor save-by-rename,
/// <c>git checkout</c>) changes the inode. The one hole is the "racy git" case: a write within the
/// file system's timestamp granularity of the moment the fingerprint was taken leaves size and
/// timestamps unchanged. Entries whose mtime or ctime is within <see cref="Files.RacyWindow"/> of the index's
/// own write time are marked racy, and a later rebuild re-reads and re-hashes those few files.
/// </remarks>
internal sealed record BundleIndex(int Version, string RootDir, int CompressionLevel, string Digest, long ArchiveBytes, List<IndexEntry> Entries)
{
    /// <summary>Bump when the archive or the index format changes: old indexes then miss.</summary>
    public const int CurrentVersion = 2;

    private const uint Magic = 0x49425346; // "FSBI"

    /// <summary>
    /// Reads an index written by <see cref="Save"/> in one go. Null when it is missing, from another
    /// format version, truncated or damaged (a trailing XxHash64 of the whole file guards that):
    /// a bad index only costs a cold build.
    /// </summary>
    public static BundleIndex? TryLoad(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length < 16 || BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(^8)) != XxHash64.HashToUInt64(bytes.AsSpan(..^8)))
            {
                return null;
            }

            using var reader = new BinaryReader(new MemoryStream(bytes, 0, bytes.Length - 8, writable: false), Encoding.UTF8);
            if (reader.ReadUInt32() != Magic || reader.ReadInt32() != CurrentVersion)
            {
                return null;
            }

            var (rootDir, level, digest, archiveBytes, count) = (reader.ReadString(), reader.ReadInt32(), reader.ReadString(), reader.ReadInt64(), reader.ReadInt32());
            if (count < 0 || count > bytes.Length)
            {
                return null;
            }

            var entries = new List<IndexEntry>(count);
            for (var i = 0; i < count; i++)
            {
                entries.Add(new IndexEntry(reader.ReadString(), reader.ReadBoolean(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(),
                    reader.ReadUInt64(), reader.ReadUInt64(), new UInt128(reader.ReadUInt64(), reader.ReadUInt64()), reader.ReadBoolean()));
            }

            return new BundleIndex(CurrentVersion, rootDir, level, digest, archiveBytes, entries);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes the index atomically, marking entries racy relative to the file system's own clock.</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            File.WriteAllBytes(temp, []);
            var now = UnixStat.TryStat(temp, followLinks: true, out var st)
                ? st.MTimeSeconds * 1_000_000_000 + st.MTimeNanoseconds
                : new DateTimeOffset(File.GetLastWriteTimeUtc(temp)).ToUnixTimeMilliseconds() * 1_000_000;
            var marked = this with
            {
                Entries = Entries.Select(e => e with { Racy = Files.RacyWindow.IsRacy(e.MTimeNs, e.CTimeNs, now) }).ToList(),
            };
            using (var stream = new MemoryStream())
            {
                marked.Write(stream);
                var hash = XxHash64.HashToUInt64(stream.GetBuffer().AsSpan(0, (int)stream.Length));
                Span<byte> trailer = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(trailer, hash);
                stream.Write(trailer);
                File.WriteAllBytes(temp, stream.ToArray());
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private void Write(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(CurrentVersion);
        writer.Write(RootDir);
        writer.Write(CompressionLevel);
        writer.Write(Digest);
        writer.Write(ArchiveBytes);
        writer.Write(Entries.Count);
        foreach (var e in Entries)
        {
            writer.Write(e.Path);
            writer.Write(e.Executable);
            writer.Write(e.Size);
            writer.Write(e.MTimeNs);
            writer.Write(e.CTimeNs);
            writer.Write(e.Inode);
            writer.Write(e.Device);
            writer.Write((ulong)(e.ContentHash >> 64));
            writer.Write((ulong)e.ContentHash);
            writer.Write(e.Racy);
        }
    }
}

/// <summary>One file's fingerprint and content hash (XxHash128). Times are nanoseconds since the Unix epoch.</summary>
internal sealed record IndexEntry(string Path, bool Executable, long Size, long MTimeNs, long CTimeNs, ulong Inode, ulong Device, UInt128 ContentHash, bool Racy = false)
{
    public static bool TryFingerprint(string fullPath, StatInfo? known, out long size, out long mtimeNs, out long ctimeNs, out ulong inode, out ulong device)
    {
        if (known is { } st || UnixStat.TryStat(fullPath, followLinks: true, out st))
        {
            (size, mtimeNs, ctimeNs, inode, device) =
                (st.Size, st.MTimeSeconds * 1_000_000_000 + st.MTimeNanoseconds, st.CTimeSeconds * 1_000_000_000 + st.CTimeNanoseconds, st.Inode, st.Device);
            return true;
        }

        // Without stat (non-Linux): size and mtime only, still guarded by the racy check.
        var info = new FileInfo(fullPath);
        if (!info.Exists)
        {
            (size, mtimeNs, ctimeNs, inode, device) = (0, 0, 0, 0, 0);
            return false;
        }

        var ticks = (info.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100;
        (size, mtimeNs, ctimeNs, inode, device) = (info.Length, ticks, ticks, 0, 0);
        return true;
    }
}
