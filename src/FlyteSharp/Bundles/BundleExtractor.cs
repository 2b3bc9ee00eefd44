using System.Formats.Tar;
using System.IO.Compression;
using FlyteSharp.Content;
using FlyteSharp.Files;

namespace FlyteSharp.Bundles;

/// <summary>
/// Unpacks a code bundle safely: the container-startup path, also used by local runs.
/// The archive's digest is checked before anything is unpacked; files go into a temporary sibling of
/// the destination that is renamed into place, so readers never see half a bundle; several processes
/// unpacking the same bundle into the same destination all succeed (the first rename wins, the others
/// find the same digest there). Names that break <see cref="BundleEntryName"/> (absolute paths, <c>..</c>,
/// backslashes), links of any kind (bundles never contain them: <see cref="BundleFiles"/> stores a link's
/// target content, and with no links every path component is a real directory this extraction made),
/// duplicate entries, a file and a directory of the same name, device nodes, FIFOs, sparse files, global
/// headers and archives over the <see cref="ExtractionLimits"/> are refused, and then nothing is left behind.
/// </summary>
public static class BundleExtractor
{
    /// <summary>Name of the file inside an extracted bundle that records its digest (how a finished extraction is recognised).</summary>
    internal const string MarkerFileName = ".flytesharp-bundle";

    /// <summary>Verifies and unpacks <paramref name="archivePath"/> into <paramref name="destination"/>.</summary>
    /// <param name="archivePath">A bundle archive (<c>.tar.gz</c>).</param>
    /// <param name="expectedDigest">The digest the archive must have, <c>sha256:&lt;hex&gt;</c>.</param>
    /// <param name="destination">Directory to create. It may already hold this same bundle (then nothing is done) or be an empty directory.</param>
    /// <param name="limits">Entry-count and size caps; <see cref="ExtractionLimits.Default"/> if null.</param>
    /// <param name="cancellationToken">Stops the extraction; nothing is left behind.</param>
    /// <exception cref="FlyteSharpException">Digest mismatch, corrupt archive, a refused entry, or a destination holding something else.</exception>
    public static Task ExtractAsync(string archivePath, string expectedDigest, string destination, ExtractionLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archivePath);
        ArgumentNullException.ThrowIfNull(destination);
        Digests.Hex(expectedDigest);
        return Task.Run(() => Extract(Path.GetFullPath(archivePath), expectedDigest, Path.GetFullPath(destination), limits ?? ExtractionLimits.Default, cancellationToken), cancellationToken);
    }

    private static void Extract(string archivePath, string expectedDigest, string destination, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        if (IsAlreadyExtracted(destination, expectedDigest))
        {
            return;
        }

        FileStream archive;
        try
        {
            archive = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot open bundle archive: {ex.Message}", archivePath, fix: "check the path, or fetch the bundle again", inner: ex);
        }

        using (archive)
        {
            // Verify first, from the same open handle we unpack from.
            var actual = Digests.OfStreamAsync(archive, cancellationToken).GetAwaiter().GetResult();
            if (actual != expectedDigest)
            {
                throw new FlyteSharpException($"digest mismatch: expected {expectedDigest}, the archive is {actual}", archivePath,
                    fix: "the file is corrupt, truncated or not this bundle: fetch it again from the store");
            }

            archive.Position = 0;
            CheckGzipMagic(archive, archivePath);
            var parent = Path.GetDirectoryName(destination) ?? throw new FlyteSharpException("cannot extract into a file system root", destination, fix: "choose a subdirectory");
            Directory.CreateDirectory(parent);
            var temp = Path.Combine(parent, $".{Path.GetFileName(destination)}.tmp-{Guid.NewGuid():N}");
            try
            {
                Directory.CreateDirectory(temp);
                Unpack(archive, archivePath, temp, limits, cancellationToken);
                File.WriteAllText(Path.Combine(temp, MarkerFileName), expectedDigest + "\n");
                Publish(temp, destination, expectedDigest);
            }
            finally
            {
                if (Directory.Exists(temp))
                {
                    Directory.Delete(temp, recursive: true);
                }
            }
        }
    }

    // GZipStream calls a non-gzip file an "unsupported compression method": say what it is instead.
    private static void CheckGzipMagic(FileStream archive, string archivePath)
    {
        Span<byte> magic = stackalloc byte[2];
        var read = archive.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        archive.Position = 0;
        if (read < magic.Length || magic[0] != 0x1f || magic[1] != 0x8b)
        {
            throw new FlyteSharpException(
                read == 0 ? "not a gzip file: the archive is empty (a code bundle is a .tar.gz)" : $"not a gzip file: it starts with bytes {Convert.ToHexString(magic[..read])}, not 1F8B (a code bundle is a .tar.gz)",
                archivePath, fix: "pass the archive `flytesharp bundle` wrote (or its store URI), not another file");
        }
    }

    private static void Publish(string temp, string destination, string digest)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                // rename(2) is atomic: readers see no destination or a whole one.
                Directory.Move(temp, destination);
                return;
            }
            catch (IOException) when (IsAlreadyExtracted(destination, digest))
            {
                // Another extractor of the same bundle got there first.
                return;
            }
            catch (IOException) when (attempt < 3 && IsEmptyDirectory(destination))
            {
                // An empty destination (e.g. a pre-created mount point) is replaced; if another extractor fills it
                // first, the next attempt finds its marker.
                try
                {
                    Directory.Delete(destination);
                }
                catch (IOException)
                {
                }
            }
            catch (IOException ex)
            {
                throw new FlyteSharpException("destination already exists and does not hold this bundle", destination,
                    fix: "extract into a new or empty directory (each bundle digest gets its own directory)", inner: ex);
            }
        }
    }

    private static bool IsEmptyDirectory(string path) =>
        Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any();

    private static bool IsAlreadyExtracted(string destination, string digest)
    {
        try
        {
            return File.ReadAllText(Path.Combine(destination, MarkerFileName)).Trim() == digest;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void Unpack(Stream archive, string archivePath, string root, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        var entries = 0;
        long total = 0;
        string? current = null;
        // Every path the archive has made so far (components joined by '/'). Checked before touching the disk, so a
        // duplicate, a file where a directory should be or the other way round is refused the same way every time,
        // whatever the file system would have said.
        var made = new Dictionary<string, Made>(StringComparer.Ordinal);
        try
        {
            using var gzip = new GZipStream(archive, CompressionMode.Decompress, leaveOpen: true);
            using var reader = new TarReader(gzip);
            while (reader.GetNextEntry() is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                current = entry.Name;
                if (++entries > limits.MaxEntries)
                {
                    throw Refused(archivePath, current, $"more than {limits.MaxEntries} entries", "raise ExtractionLimits.MaxEntries if the bundle is genuine");
                }

                if (BundleEntryName.Problem(entry.Name) is { } problem)
                {
                    throw Refused(archivePath, current, problem, null);
                }

                var parts = BundleEntryName.Parts(entry.Name);
                var target = Path.GetFullPath(Path.Combine(root, Path.Combine(parts)));
                if (!FileWalker.IsUnder(target, root))
                {
                    throw Refused(archivePath, current, "path leaves the destination", null);
                }

                // Old V7 archives mark a directory only by a trailing slash on a "regular file"; GNU tar and Python's
                // tarfile (so the runner) read it as a directory, and so does this.
                var type = entry.EntryType == TarEntryType.V7RegularFile && entry.Name.EndsWith('/') ? TarEntryType.Directory : entry.EntryType;
                switch (type)
                {
                    case TarEntryType.Directory:
                        Record(made, parts, Made.Directory, archivePath, current);
                        Write(archivePath, current, () => Directory.CreateDirectory(target));
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                        if (entry is PaxTarEntry pax && pax.ExtendedAttributes.Keys.Any(k => k.StartsWith("GNU.sparse.", StringComparison.Ordinal)))
                        {
                            throw Refused(archivePath, current, "sparse file (bundles never contain one)", null);
                        }

                        total += entry.Length;
                        if (entry.Length < 0 || total > limits.MaxTotalBytes)
                        {
                            throw Refused(archivePath, current, $"unpacked size over {limits.MaxTotalBytes} bytes", "raise ExtractionLimits.MaxTotalBytes if the bundle is genuine");
                        }

                        Record(made, parts, Made.File, archivePath, current);
                        Write(archivePath, current, () => WriteFile(entry, target));
                        break;
                    case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                        throw Refused(archivePath, current, $"{(entry.EntryType == TarEntryType.HardLink ? "hard" : "symbolic")} link to '{entry.LinkName}' (bundles never contain links)", null);
                    case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                        throw Refused(archivePath, current, $"special file ({entry.EntryType})", null);
                    case TarEntryType.GlobalExtendedAttributes:
                        throw Refused(archivePath, current, "global extended header: it would change the entries after it (bundles never contain one)", null);
                    default:
                        throw Refused(archivePath, current, $"unsupported entry type {entry.EntryType}", null);
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
        {
            throw new FlyteSharpException($"corrupt or truncated archive{(current is null ? "" : $" (after entry '{current}')")}: {ex.Message}", archivePath,
                fix: "fetch the bundle again, or rebuild it with `flytesharp bundle`", inner: ex);
        }
    }

    /// <summary>What an archive entry made at a path: parents of an entry count as directories it made implicitly.</summary>
    private enum Made
    {
        ImpliedDirectory,
        Directory,
        File,
    }

    /// <summary>
    /// Refuses an entry that clashes with one before it: a second entry of the same path (a later one would
    /// silently replace or write through the first), a file where a directory is or will be, or a directory
    /// where a file is. A directory entry for a directory only implied so far (by a file below it) is fine.
    /// </summary>
    private static void Record(Dictionary<string, Made> made, string[] parts, Made kind, string archivePath, string entry)
    {
        var path = "";
        for (var i = 0; i < parts.Length - 1; i++)
        {
            path = i == 0 ? parts[0] : path + "/" + parts[i];
            if (made.TryGetValue(path, out var parent))
            {
                if (parent == Made.File)
                {
                    throw Refused(archivePath, entry, $"'{path}' is a file, so it cannot hold a directory or file", null);
                }
            }
            else
            {
                made[path] = Made.ImpliedDirectory;
            }
        }

        path = parts.Length == 1 ? parts[0] : path + "/" + parts[^1];
        if (made.TryGetValue(path, out var existing))
        {
            var clash = (existing, kind) switch
            {
                (Made.ImpliedDirectory, Made.Directory) => null,
                (Made.File, Made.File) or (Made.Directory, Made.Directory) => "duplicate entry",
                (Made.File, _) => "a file of that name came before it",
                _ => "a directory of that name came before it",
            };
            if (clash is not null)
            {
                throw Refused(archivePath, entry, clash, null);
            }
        }

        made[path] = kind;
    }

    /// <summary>Runs a file system write for an entry; an I/O failure is a refusal naming the entry, never a crash.</summary>
    private static void Write(string archivePath, string entry, Action write)
    {
        try
        {
            write();
        }
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            throw Refused(archivePath, entry, $"cannot be written ({ex.Message})", null);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw Refused(archivePath, entry, $"cannot be written ({ex.Message})", null);
        }
    }

    private static void WriteFile(TarEntry entry, string target)
    {
        var executable = (entry.Mode & UnixFileMode.UserExecute) != 0;
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Only 0644/0755: never setuid, setgid, sticky or world-writable bits from an archive.
            options.UnixCreateMode = executable
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        using var output = new FileStream(target, options);
        entry.DataStream?.CopyTo(output);
    }

    private static FlyteSharpException Refused(string archivePath, string entry, string reason, string? fix) =>
        new($"refused to extract entry '{entry}': {reason}; nothing was extracted", archivePath,
            fix: fix ?? "this is not a FlyteSharp bundle or it was tampered with: rebuild it with `flytesharp bundle`");
}
