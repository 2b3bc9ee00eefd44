using FlyteSharp.Files;

namespace FlyteSharp.Images;

/// <summary>A file chosen for an image layer: its POSIX path relative to the layer's root, where it is on disk, and its stat from the walk (null when not walked).</summary>
internal sealed record SelectedFile(string RelativePath, string FullPath, bool Executable, StatInfo? Stat = null);

/// <summary>
/// Selects a folder's files the way a Docker build context is filtered (standard ignores, the folder's own
/// <c>.dockerignore</c>, then extra rules), with the shared <see cref="FileWalker"/>: symlinks to directories are
/// refused, symlinks to files are followed.
/// </summary>
internal static class FileSelector
{
    /// <summary>
    /// Every file under <paramref name="root"/> that the ignore rules keep, sorted ordinally by POSIX
    /// relative path (so the order is the same on every OS and file system).
    /// </summary>
    public static IReadOnlyList<SelectedFile> Select(string root, DockerIgnore extra)
    {
        root = Path.GetFullPath(root);
        var ignore = Standard.Value;
        var own = Path.Combine(root, ".dockerignore");
        if (File.Exists(own))
        {
            ignore = ignore.Then(DockerIgnore.Parse(File.ReadAllLines(own), own));
        }

        ignore = ignore.Then(extra);
        return FileWalker.Walk(root, new DockerIgnoreFilter(ignore), Policy).ConvertAll(f => new SelectedFile(f.RelativePath, f.FullPath, f.Executable, f.Stat));
    }

    /// <summary>True when the file is executable by its owner (always false on Windows).</summary>
    public static bool IsExecutable(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;

    private static readonly Lazy<DockerIgnore> Standard = new(() => DockerIgnore.Parse(DockerIgnore.StandardPatterns));

    private static readonly WalkPolicy Policy = new(".dockerignore", SkipGit: false, FollowDirectoryLinks: false, LinksStayInside: false,
        DirectoryLinkRefusal: "'{0}' is a symbolic link to a directory; FlyteSharp does not follow those into images");

    /// <summary>One dockerignore for the whole context: patterns are anchored at the context's root, so nothing changes per directory.</summary>
    private sealed class DockerIgnoreFilter(DockerIgnore ignore) : IWalkFilter
    {
        public IWalkFilter Enter(string directory, string relativePrefix, IReadOnlyList<DirectoryEntry> entries) => this;

        public bool IsIgnored(string relativePath, bool isDirectory) => ignore.IsExcluded(relativePath, checkParents: false);
    }
}
