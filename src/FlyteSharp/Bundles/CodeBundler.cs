using System.Buffers;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using FlyteSharp.Content;
using FlyteSharp.Files;

namespace FlyteSharp.Bundles;

/// <summary>
/// Builds code bundles: a deterministic <c>.tar.gz</c> of the files <see cref="BundleFiles.Select"/> picks
/// under root_dir. Same files → same bytes → same digest, on any machine, whatever the files' mtimes or
/// owners. A local cache makes a rebuild of an unchanged tree return the same digest without reading the files.
/// </summary>
public static class CodeBundler
{
    private const int ChunkSize = 1 << 18;

    /// <summary>Builds (or finds in the cache) the bundle of <paramref name="rootDir"/>.</summary>
    /// <param name="rootDir">The directory you would <c>cd</c> into before <c>python -c "import my_module"</c>.</param>
    /// <param name="options">Cache location, compression level, progress and warning callbacks.</param>
    /// <param name="cancellationToken">Stops the build; nothing is left in the cache.</param>
    /// <exception cref="FlyteSharpException">root_dir is missing, a symlink escapes it, a file is unreadable or changes while being read.</exception>
    public static Task<CodeBundle> CreateAsync(string rootDir, BundleOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new BundleOptions();
        if (options.CompressionLevel is < 1 or > 9)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.CompressionLevel, "CompressionLevel must be 1–9");
        }

        // File work is synchronous on purpose (one sequential pass, big reads): run it off the caller's thread.
        return Task.Run(() => Create(rootDir, options, cancellationToken), cancellationToken);
    }

    private static CodeBundle Create(string rootDir, BundleOptions options, CancellationToken cancellationToken)
    {
        var root = BundleFiles.CheckRoot(rootDir);
        foreach (var warning in BundleFiles.Warnings(root))
        {
            options.Warning?.Invoke(warning);
        }

        var selected = BundleFiles.SelectWithStat(root, options.Warning);
        var files = selected.ConvertAll(f => f.File);
        CheckExtractable(root, files);
        var cache = options.EffectiveCacheDirectory;
        var realRoot = FileWalker.RealPath(root);
        var indexPath = Path.Combine(cache, "index", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(realRoot))) + ".idx");

        if (BundleIndex.TryLoad(indexPath) is { } index && IsUnchanged(index, realRoot, options, selected, cancellationToken) &&
            ArchivePath(cache, index.Digest) is var cached && new FileInfo(cached) is { Exists: true } info && info.Length == index.ArchiveBytes)
        {
            if (index.Entries.Any(e => e.Racy))
            {
                // The racy files were re-hashed and matched; record that they are now old enough to trust.
                index.Save(indexPath);
            }

            return new CodeBundle(index.Digest, cached, files.Count, index.ArchiveBytes);
        }

        var (digest, bytes, entries) = Build(selected, cache, options, cancellationToken);
        new BundleIndex(BundleIndex.CurrentVersion, realRoot, options.CompressionLevel, digest, bytes, entries).Save(indexPath);
        return new CodeBundle(digest, ArchivePath(cache, digest), files.Count, bytes);
    }

    /// <summary>Refuses a bundle over the <see cref="ExtractionLimits.Default"/> every extractor applies: it could be built, but no run could unpack it.</summary>
    private static void CheckExtractable(string root, List<BundleFile> files)
    {
        var limits = ExtractionLimits.Default;
        if (files.Count > limits.MaxEntries)
        {
            throw new FlyteSharpException($"{files.Count} files selected, more than the {limits.MaxEntries} a bundle may hold: every run would refuse to unpack it", root,
                fix: $"exclude data and generated files in {BundleFiles.FlyteIgnoreFileName}, or check that root_dir is your source directory");
        }

        var bytes = files.Sum(f => f.Length);
        if (bytes > limits.MaxTotalBytes)
        {
            var largest = files.MaxBy(f => f.Length)!;
            throw new FlyteSharpException($"selected files hold {bytes} bytes, more than the {limits.MaxTotalBytes} a bundle may unpack to: every run would refuse it (largest: '{largest.RelativePath}', {largest.Length} bytes)", root,
                fix: $"exclude data and generated files in {BundleFiles.FlyteIgnoreFileName}; data belongs in the store or the image, not the code bundle");
        }
    }

    internal static string ArchivePath(string cache, string digest) => Path.Combine(cache, "blobs", "sha256", Digests.Hex(digest) + ".tar.gz");

    private static bool IsUnchanged(BundleIndex index, string realRoot, BundleOptions options, List<(BundleFile File, StatInfo? Stat)> files, CancellationToken cancellationToken)
    {
        if (index.Version != BundleIndex.CurrentVersion || index.RootDir != realRoot || index.CompressionLevel != options.CompressionLevel ||
            index.Entries.Count != files.Count || !Digests.IsValid(index.Digest))
        {
            return false;
        }

        for (var i = 0; i < files.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ((file, stat), entry) = (files[i], index.Entries[i]);
            if (file.RelativePath != entry.Path || file.Executable != entry.Executable ||
                !IndexEntry.TryFingerprint(file.FullPath, stat, out var size, out var mtime, out var ctime, out var inode, out var device) ||
                (size, mtime, ctime, inode, device) != (entry.Size, entry.MTimeNs, entry.CTimeNs, entry.Inode, entry.Device))
            {
                return false;
            }

            if (entry.Racy && HashFile(file.FullPath, options) != entry.ContentHash)
            {
                return false;
            }
        }

        return true;
    }

    private static UInt128? HashFile(string path, BundleOptions options)
    {
        options.FileRead?.Invoke(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0, FileOptions.SequentialScan);
            var hash = new XxHash128();
            hash.Append(stream);
            return hash.GetCurrentHashAsUInt128();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static (string Digest, long Bytes, List<IndexEntry> Entries) Build(List<(BundleFile File, StatInfo? Stat)> files, string cache, BundleOptions options, CancellationToken cancellationToken)
    {
        var blobs = Path.Combine(cache, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        var temp = Path.Combine(blobs, ".tmp-" + Guid.NewGuid().ToString("N"));
        var entries = new List<IndexEntry>(files.Count);
        var totalBytes = files.Sum(f => f.File.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            string digest;
            long bytes;
            using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (var hashing = new HashingStream(output))
            using (var gzip = new DeterministicGzipStream(hashing, options.CompressionLevel))
            {
                var tar = new DeterministicTarWriter(gzip);
                long done = 0;
                for (var i = 0; i < files.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    options.FileRead?.Invoke(files[i].File.FullPath);
                    done += AddFile(tar, files[i].File, files[i].Stat, buffer, entries);
                    options.Progress?.Report(new BundleProgress(i + 1, files.Count, done, totalBytes));
                }

                tar.Finish();
                gzip.Finish();
                hashing.Flush();
                digest = hashing.Digest();
                bytes = hashing.BytesWritten;
                output.Flush(flushToDisk: true);
            }

            var final = Path.Combine(blobs, Digests.Hex(digest) + ".tar.gz");
            if (File.Exists(final) && new FileInfo(final).Length == bytes)
            {
                File.Delete(temp); // same bytes already cached (e.g. another root_dir with the same files)
            }
            else
            {
                File.Move(temp, final, overwrite: true);
            }

            return (digest, bytes, entries);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            File.Delete(temp);
        }
    }

    private static long AddFile(DeterministicTarWriter tar, BundleFile file, StatInfo? stat, byte[] buffer, List<IndexEntry> entries)
    {
        // Fingerprint from before reading (taken at selection): a change during or after the read makes the next build miss.
        IndexEntry.TryFingerprint(file.FullPath, stat, out _, out var mtime, out var ctime, out var inode, out var device);
        FileStream stream;
        try
        {
            stream = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot read file: {ex.Message}", file.FullPath,
                fix: $"make it readable, or exclude '{file.RelativePath}' in {BundleFiles.FlyteIgnoreFileName}", inner: ex);
        }

        using (stream)
        {
            var size = stream.Length;
            var hash = new XxHash128();
            tar.BeginFile(file.RelativePath, file.Executable, size);
            long read = 0;
            while (read < size)
            {
                var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, size - read));
                if (n == 0)
                {
                    throw new FlyteSharpException("file shrank while it was being bundled", file.FullPath, fix: "run the command again once the file is no longer being written");
                }

                tar.WriteData(buffer.AsSpan(0, n));
                hash.Append(buffer.AsSpan(0, n));
                read += n;
            }

            tar.EndFile(size);
            entries.Add(new IndexEntry(file.RelativePath, file.Executable, size, mtime, ctime, inode, device, hash.GetCurrentHashAsUInt128()));
            return size;
        }
    }
}
