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
/// find the same digest there). Absolute paths, <c>..</c>, links of any kind (bundles never contain
/// them: <see cref="BundleFiles"/> stores a link's target content), device nodes, FIFOs and archives over
/// the <see cref="ExtractionLimits"/> are refused, and then nothing is left behind.
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

                var relative = SafeRelativePath(archivePath, entry.Name);
                var target = Path.GetFullPath(Path.Combine(root, relative));
                if (!FileWalker.IsUnder(target, root))
                {
                    throw Refused(archivePath, current, "path leaves the destination", null);
                }

                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        Directory.CreateDirectory(target);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                        total += entry.Length;
                        if (entry.Length < 0 || total > limits.MaxTotalBytes)
                        {
                            throw Refused(archivePath, current, $"unpacked size over {limits.MaxTotalBytes} bytes", "raise ExtractionLimits.MaxTotalBytes if the bundle is genuine");
                        }

                        WriteFile(entry, target, archivePath);
                        break;
                    case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                        throw Refused(archivePath, current, $"{(entry.EntryType == TarEntryType.HardLink ? "hard" : "symbolic")} link to '{entry.LinkName}' (bundles never contain links)", null);
                    case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                        throw Refused(archivePath, current, $"special file ({entry.EntryType})", null);
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

    private static void WriteFile(TarEntry entry, string target, string archivePath)
    {
        var dir = Path.GetDirectoryName(target)!;
        var executable = (entry.Mode & UnixFileMode.UserExecute) != 0;
        try
        {
            Directory.CreateDirectory(dir);
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
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            throw Refused(archivePath, entry.Name, $"cannot be written ({ex.Message}); duplicate entry or a file where a directory should be", null);
        }
    }

    /// <summary>The entry's path split into safe components, or a refusal naming the entry.</summary>
    internal static string SafeRelativePath(string archivePath, string name)
    {
        if (name.Length == 0 || name.Contains('\0') || name.Contains('\\'))
        {
            throw Refused(archivePath, name, "empty name, NUL or backslash in the path", null);
        }

        if (name.StartsWith('/') || (name.Length >= 2 && name[1] == ':'))
        {
            throw Refused(archivePath, name, "absolute path", null);
        }

        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                throw Refused(archivePath, name, "'..' in the path", null);
            }

            parts.Add(part);
        }

        if (parts.Count == 0)
        {
            throw Refused(archivePath, name, "path names the destination itself", null);
        }

        return Path.Combine([.. parts]);
    }

    private static FlyteSharpException Refused(string archivePath, string entry, string reason, string? fix) =>
        new($"refused to extract entry '{entry}': {reason}; nothing was extracted", archivePath,
            fix: fix ?? "this is not a FlyteSharp bundle or it was tampered with: rebuild it with `flytesharp bundle`");
}
