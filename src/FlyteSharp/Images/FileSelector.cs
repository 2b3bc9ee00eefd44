using FlyteSharp.Files;

namespace FlyteSharp.Images;

/// <summary>
/// Selects a folder's files the way a Docker build context is filtered (standard ignores, the folder's own
/// <c>.dockerignore</c>, then extra rules), with the shared <see cref="FileWalker"/>.
/// </summary>
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
        var own = Path.Combine(root, ".dockerignore");
        IIgnore ignore = File.Exists(own)
            ? new IgnoreGroup(Standard.Value, DockerIgnore.Parse(File.ReadAllLines(own), own), extra)
            : new IgnoreGroup(Standard.Value, extra);
        return FileWalker.Walk(root, new IgnoreFilter(ignore), Policy,
            static (relative, full, executable, _, stat) => new SelectedFile(relative, full, executable, stat, IsRealPath: true));
    }

    private static string RealPath(string path)
    {
        try
        {
            return FileWalker.RealPath(path);
        }
        catch (IOException ex)
        {
            throw new FlyteSharpException($"cannot resolve symlinks: {ex.Message}", path, fix: "fix or remove the symlink loop, or exclude it in .dockerignore");
        }
    }

    /// <summary>True when the file is executable by its owner (always false on Windows).</summary>
    public static bool IsExecutable(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;

    /// <summary>What is never part of an image: VCS data, virtualenvs, caches, build output, credential files.</summary>
    public static readonly IReadOnlyList<string> StandardIgnores =
    [
        "**/.git", "**/.hg", "**/.svn", "**/.venv", "**/venv", "**/__pycache__", "**/*.pyc", "**/*.pyo",
        "**/.mypy_cache", "**/.pytest_cache", "**/.ruff_cache", "**/.tox", "**/.nox", "**/*.egg-info",
        "**/.idea", "**/.vscode", "**/.DS_Store", "**/node_modules", "**/bin", "**/obj",

        // Credentials never belong in an image layer (the same files code bundles leave out; see BundleFiles.CredentialIgnores).
        "**/.env", "**/.env.*", "**/*.pem", "**/*.key", "**/*.p12", "**/*.pfx", "**/id_rsa*", "**/id_dsa*", "**/id_ecdsa*",
        "**/id_ed25519*", "**/.netrc", "**/.npmrc", "**/.pypirc", "**/.git-credentials", "**/.pgpass", "**/.docker/config.json",
        "**/.aws", "**/.ssh", "**/.gnupg", "**/.kube",
    ];

    private static readonly Lazy<StandardIgnore> Standard = new(() => new StandardIgnore(StandardIgnores, IgnoreDialect.Dockerignore));

    private static readonly WalkPolicy Policy = new(".dockerignore", SkipGit: false, FollowDirectoryLinks: false,
        DirectoryLinkRefusal: "'{0}' is a symbolic link to a directory; FlyteSharp does not follow those into images",
        OutsideLinkRefusal: "'{0}' is a symbolic link to '{1}', outside the folder being copied ({2}); FlyteSharp never follows a link out of the folder into an image",
        OutsideLinkFix: "copy the file into the folder, or exclude the link in .dockerignore",
        LinkPathIsTarget: true);
}
