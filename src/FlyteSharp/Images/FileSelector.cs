namespace FlyteSharp.Images;

/// <summary>A file chosen for an image layer: its POSIX path relative to the layer's root, and where it is on disk.</summary>
internal sealed record SelectedFile(string RelativePath, string FullPath, bool Executable);

/// <summary>Walks a folder the way a Docker build context is filtered: standard ignores, the folder's own <c>.dockerignore</c>, then extra rules.</summary>
/// <remarks>
/// Nothing outside the folder ever reaches an image: the folder is walked at its real path (every symlink resolved), a
/// symlinked file is taken as its target's content only when that target resolves inside the folder, and a symlink
/// that leads outside (to a home directory, <c>/etc</c>, another project) is an error naming the link and its target,
/// unless an ignore rule excludes it. Symlinked directories are refused. Selected files carry their real path, so
/// the build context copies exactly what was hashed.
/// </remarks>
internal static class FileSelector
{
    /// <summary>
    /// Every file under <paramref name="root"/> that the ignore rules keep, sorted ordinally by POSIX
    /// relative path (so the order is the same on every OS and file system).
    /// </summary>
    public static IReadOnlyList<SelectedFile> Select(string root, DockerIgnore extra)
    {
        root = RealPath(Path.GetFullPath(root));
        var ignore = Standard.Value;
        var own = Path.Combine(root, ".dockerignore");
        if (File.Exists(own))
        {
            ignore = ignore.Then(DockerIgnore.Parse(File.ReadAllLines(own), own));
        }

        ignore = ignore.Then(extra);
        var result = new List<SelectedFile>();
        Walk(root, root, "", ignore, result);
        result.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return result;
    }

    /// <summary>True when the file is executable by its owner (always false on Windows).</summary>
    public static bool IsExecutable(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;

    private static readonly Lazy<DockerIgnore> Standard = new(() => DockerIgnore.Parse(DockerIgnore.StandardPatterns));

    private static string RealPath(string path)
    {
        try
        {
            return Bundles.BundleFiles.RealPath(path);
        }
        catch (IOException ex)
        {
            throw new FlyteSharpException($"cannot resolve symlinks: {ex.Message}", path, fix: "fix or remove the symlink loop, or exclude it in .dockerignore");
        }
    }

    private static void Walk(string root, string dir, string prefix, DockerIgnore ignore, List<SelectedFile> result)
    {
        foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            var rel = prefix.Length == 0 ? entry.Name : prefix + "/" + entry.Name;
            if (ignore.IsExcluded(rel, checkParents: false))
            {
                continue;
            }

            if (entry is DirectoryInfo sub)
            {
                if (sub.Attributes.HasFlag(FileAttributes.ReparsePoint) && sub.LinkTarget is not null)
                {
                    throw new FlyteSharpException($"'{rel}' is a symbolic link to a directory; FlyteSharp does not follow those into images", sub.FullName,
                        fix: "replace the link with a real directory, or exclude it in .dockerignore");
                }

                Walk(root, sub.FullName, rel, ignore, result);
            }
            else if (entry is FileInfo file)
            {
                var link = file.Attributes.HasFlag(FileAttributes.ReparsePoint);
                if (link && !File.Exists(file.FullName))
                {
                    throw new FlyteSharpException($"'{rel}' is a broken symbolic link", file.FullName, fix: "remove it or exclude it in .dockerignore");
                }

                var source = file.FullName;
                if (link)
                {
                    source = RealPath(file.FullName);
                    if (!Bundles.BundleFiles.IsUnder(source, root))
                    {
                        throw new FlyteSharpException(
                            $"'{rel}' is a symbolic link to '{source}', outside the folder being copied ({root}); FlyteSharp never follows a link out of the folder into an image",
                            file.FullName, fix: "copy the file into the folder, or exclude the link in .dockerignore");
                    }
                }

                // A link's own mode says nothing; ask for the target's. Plain files use the mode the enumeration already read.
                var executable = link ? IsExecutable(source) : !OperatingSystem.IsWindows() && (file.UnixFileMode & UnixFileMode.UserExecute) != 0;
                result.Add(new SelectedFile(rel, source, executable));
            }
        }
    }
}
