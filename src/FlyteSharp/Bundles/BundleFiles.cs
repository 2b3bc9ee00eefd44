using System.IO.Enumeration;
using FlyteSharp.Files;

namespace FlyteSharp.Bundles;

/// <summary>
/// Selects the files of a code bundle under <c>root_dir</c>: the directory you would <c>cd</c> into
/// before <c>python -c "import my_module"</c> (<c>src/</c> for src layout, the project root for flat layout).
/// The same selection feeds the bundle archive and the full-build <c>COPY</c> of <c>WithCodeBundle()</c>.
/// </summary>
/// <remarks>
/// Ignore rules, lowest precedence first: <see cref="StandardIgnores"/>; then, per directory from
/// root_dir down, its <c>.gitignore</c> followed by its <c>.flyteignore</c> (full gitignore semantics:
/// negation, anchoring, directory-only patterns, <c>**</c>). A <c>.git</c> entry is always excluded.
/// An excluded directory is not entered, so nothing below it can be re-included (as in git).
/// Symlinks that resolve inside root_dir are followed (stored as their target's content); a symlink
/// that resolves outside root_dir, or is broken, is an error naming the link.
/// </remarks>
public static class BundleFiles
{
    /// <summary>Name of the FlyteSharp-specific ignore file (gitignore syntax), read in every directory.</summary>
    public const string FlyteIgnoreFileName = ".flyteignore";

    /// <summary>Patterns excluded from every bundle unless an ignore file re-includes them with <c>!pattern</c>.</summary>
    public static IReadOnlyList<string> StandardIgnores { get; } =
    [
        ".venv/", "venv/", "__pycache__/", "*.pyc", ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".idea/",
        "*.egg-info/", "dist/", "build/", "bin/", "obj/", BundleExtractor.MarkerFileName,
    ];

    private static readonly string[] IgnoreFileNames = [".gitignore", FlyteIgnoreFileName];

    // Immutable (WithDirectory returns a new instance), so parsed once per process.
    private static readonly Lazy<IgnoreRules> StandardRules = new(() => IgnoreRules.FromPatterns(StandardIgnores));

    /// <summary>
    /// Lists the bundle's files under <paramref name="rootDir"/>, sorted ordinally by
    /// <see cref="BundleFile.RelativePath"/>. Reads no file contents (only ignore files).
    /// </summary>
    /// <exception cref="FlyteSharpException">root_dir is missing or not a directory; a symlink points
    /// outside root_dir or nowhere; a special file (FIFO, socket, device) is not ignored; a directory is unreadable.</exception>
    public static IReadOnlyList<BundleFile> Select(string rootDir) => SelectWithStat(rootDir).Select(f => f.File).ToList();

    /// <summary><see cref="Select"/> plus each file's stat (taken once, reused by the bundle cache's fingerprint).</summary>
    internal static List<(BundleFile File, StatInfo? Stat)> SelectWithStat(string rootDir)
    {
        var root = CheckRoot(rootDir);
        var realRoot = RealPath(root);
        var files = new List<(BundleFile, StatInfo?)>();
        Walk(root, "", StandardRules.Value, realRoot, realRoot, [realRoot], files);
        files.Sort((a, b) => string.CompareOrdinal(a.Item1.RelativePath, b.Item1.RelativePath));
        return files;
    }

    /// <summary>
    /// Warnings about a root_dir that is almost certainly wrong: a file system root or a home directory
    /// would bundle far too much. Empty when root_dir looks reasonable.
    /// </summary>
    public static IReadOnlyList<string> Warnings(string rootDir)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDir));
        var warnings = new List<string>();
        if (Path.GetPathRoot(full) is { } r && Path.TrimEndingDirectorySeparator(r) == full || full.Length == 0)
        {
            warnings.Add($"root_dir '{rootDir}' is a file system root: the bundle would hold far too much; set root_dir to your project's source directory");
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length > 0 && string.Equals(full, Path.TrimEndingDirectorySeparator(Path.GetFullPath(home)), StringComparison.Ordinal))
        {
            warnings.Add($"root_dir '{rootDir}' is your home directory: the bundle would hold far too much; set root_dir to your project's source directory");
        }

        return warnings;
    }

    internal static string CheckRoot(string rootDir)
    {
        ArgumentNullException.ThrowIfNull(rootDir);
        var root = Path.GetFullPath(rootDir);
        if (File.Exists(root))
        {
            throw new FlyteSharpException("root_dir is a file, not a directory", root,
                fix: "set root_dir to the directory you would cd into before `python -c \"import my_module\"`");
        }

        if (!Directory.Exists(root))
        {
            throw new FlyteSharpException("root_dir does not exist", root,
                fix: "create it, or set root_dir to your project's source directory (src/ for src layout)");
        }

        return root;
    }

    private static readonly EnumerationOptions NamesOnly = new()
    {
        AttributesToSkip = 0, // include dot files; and with nothing to skip .NET need not stat each entry
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    // Metadata calls are all a warm rebuild does, so each entry costs at most one: directories none (d_type says
    // what they are), files one fstatat relative to their open directory, and ignored files none at all.
    private static void Walk(string dir, string prefix, IgnoreRules parentRules, string realRoot, string realDir, HashSet<string> realAncestors, List<(BundleFile, StatInfo?)> files)
    {
        var entries = new List<DirectoryEntry>();
        nint handle;
        try
        {
            handle = UnixStat.OpenAndReadDirectory(dir, entries);
            if (handle == 0)
            {
                foreach (var name in new FileSystemEnumerable<string>(dir, (ref FileSystemEntry e) => e.FileName.ToString(), NamesOnly))
                {
                    entries.Add(new DirectoryEntry(name, UnixStat.DtUnknown));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot list directory: {ex.Message}", dir,
                fix: "make it readable, or exclude it in .flyteignore");
        }

        List<(string Full, string Relative, string Real)>? subdirectories = null;
        IgnoreRules rules;
        try
        {
            var fd = handle == 0 ? -1 : UnixStat.DirectoryFd(handle);
            rules = parentRules.WithDirectory(dir, prefix, IgnoreFileNames.Where(n => entries.Exists(e => e.Name == n)));
            foreach (var (name, type) in entries)
            {
                if (name == ".git")
                {
                    continue;
                }

                var relative = prefix + name;
                if (type == UnixStat.DtDirectory)
                {
                    // A plain directory (d_type never says "directory" for a link): no stat, and its real path extends its parent's.
                    if (!rules.IsIgnored(relative, isDirectory: true))
                    {
                        (subdirectories ??= []).Add((Path.Join(dir, name), relative, Path.Join(realDir, name)));
                    }

                    continue;
                }

                var knownFile = type == UnixStat.DtRegular;
                if (knownFile && rules.IsIgnored(relative, isDirectory: false))
                {
                    continue;
                }

                var full = Path.Join(dir, name);
                StatInfo? stat = null;
                bool isLink, isDirectory;
                if (fd >= 0 ? UnixStat.TryStatAt(fd, name, out var lst) : UnixStat.TryStat(full, followLinks: false, out lst))
                {
                    isLink = lst.IsSymlink;
                    isDirectory = lst.IsDirectory;
                    stat = isLink ? null : lst;
                }
                else
                {
                    var info = new FileInfo(full);
                    isLink = info.LinkTarget is not null;
                    isDirectory = !isLink && Directory.Exists(full);
                }

                if (isLink)
                {
                    // Ignore rules see the link's own path; judge it by what it points at (git would not follow, we do).
                    if (rules.IsIgnored(relative, Directory.Exists(full)))
                    {
                        continue;
                    }

                    isDirectory = ResolveInside(new FileInfo(full), realRoot) is DirectoryInfo;
                    stat = UnixStat.TryStat(full, followLinks: true, out var target) ? target : null;
                }

                // d_type said "regular file" and it was checked as one above; anything else is checked as what it is.
                if (!(knownFile && !isLink && !isDirectory) && rules.IsIgnored(relative, isDirectory))
                {
                    continue;
                }

                if (isDirectory)
                {
                    (subdirectories ??= []).Add((full, relative, isLink ? RealPath(full) : Path.Join(realDir, name)));
                    continue;
                }

                bool executable;
                long size;
                if (stat is { } st)
                {
                    if (!st.IsRegularFile)
                    {
                        throw new FlyteSharpException("not a regular file (FIFO, socket or device) inside root_dir", full,
                            fix: $"remove it, or exclude '{relative}' in {FlyteIgnoreFileName}");
                    }

                    executable = (st.Mode & 0b001_000_000) != 0;
                    size = st.Size;
                }
                else
                {
                    var info = new FileInfo(full);
                    executable = !OperatingSystem.IsWindows() && (info.UnixFileMode & UnixFileMode.UserExecute) != 0;
                    size = info.Length;
                }

                files.Add((new BundleFile(relative, full, executable, size), stat));
            }
        }
        finally
        {
            // Closed before descending: open descriptors stay bounded whatever the tree's depth.
            UnixStat.CloseDirectory(handle);
        }

        foreach (var (full, relative, real) in subdirectories ?? [])
        {
            if (!realAncestors.Add(real))
            {
                throw new FlyteSharpException($"symlink loop: '{relative}' leads back to one of its parent directories", full,
                    fix: $"remove the link, or exclude '{relative}' in {FlyteIgnoreFileName}");
            }

            Walk(full, relative + "/", rules, realRoot, real, realAncestors, files);
            realAncestors.Remove(real);
        }
    }

    private static FileSystemInfo ResolveInside(FileSystemInfo link, string realRoot)
    {
        string real;
        try
        {
            real = RealPath(link.FullName);
        }
        catch (IOException ex)
        {
            throw new FlyteSharpException($"cannot resolve symlink: {ex.Message}", link.FullName,
                fix: "fix or remove the link, or exclude it in .flyteignore");
        }

        FileSystemInfo target = Directory.Exists(real) ? new DirectoryInfo(real) : new FileInfo(real);
        if (!target.Exists)
        {
            throw new FlyteSharpException($"broken symlink (points to '{link.LinkTarget}', which does not exist)", link.FullName,
                fix: "fix or remove the link, or exclude it in .flyteignore");
        }

        if (!IsUnder(real, realRoot))
        {
            throw new FlyteSharpException($"symlink points outside root_dir (to '{real}')", link.FullName,
                fix: "copy the target into root_dir, move root_dir up so it contains the target, or exclude the link in .flyteignore");
        }

        return target;
    }

    internal static bool IsUnder(string path, string root) =>
        path == root || path.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>The canonical path with every symlink component resolved (like POSIX <c>realpath</c>).</summary>
    internal static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full) ?? "/";
        var pending = new Stack<string>(full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = root;
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }

            var next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } linkTarget)
            {
                if (++hops > 40)
                {
                    throw new IOException($"too many levels of symbolic links at '{next}'");
                }

                // Push the target's raw components: ".." must apply to resolved directories, not lexically.
                if (Path.IsPathRooted(linkTarget))
                {
                    current = Path.GetPathRoot(linkTarget) ?? root;
                    linkTarget = linkTarget[current.Length..];
                }

                foreach (var p in linkTarget.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                {
                    pending.Push(p);
                }

                continue;
            }

            current = next;
        }

        return current;
    }
}
