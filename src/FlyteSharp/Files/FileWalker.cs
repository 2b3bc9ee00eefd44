using System.Globalization;
using System.IO.Enumeration;
using System.Runtime.InteropServices;

namespace FlyteSharp.Files;

/// <summary>
/// The one file-tree walker of FlyteSharp, shared by code bundles and image contexts: reads each directory once
/// (<c>readdir</c>; <c>d_type</c> spares directories any stat), consults the <see cref="IWalkFilter"/> before it
/// stats anything, and stats each kept file once (<c>fstatat</c> relative to its open directory), handing that stat
/// on so the digest caches need no second one. Excluded directories are not entered. Symlinks are judged by what
/// they point at, as the <see cref="WalkPolicy"/> says; special files (FIFO, socket, device) are refused.
/// </summary>
internal static class FileWalker
{
    /// <summary>Every file under <paramref name="root"/> the filter keeps, sorted ordinally by relative path.</summary>
    /// <remarks>
    /// Each directory's entries are sorted by name (a subdirectory as its name plus <c>/</c>) and emitted in that order, descending into
    /// a subdirectory at its place, so the whole list comes out sorted without sorting thousands of long paths against each other.
    /// </remarks>
    /// <exception cref="FlyteSharpException">A symlink breaks the policy or is broken, a special file is not ignored, or a directory is unreadable.</exception>
    public static List<WalkedFile> Walk(string root, IWalkFilter filter, WalkPolicy policy) =>
        Walk(root, filter, policy, static (relative, full, executable, size, stat) => new WalkedFile(relative, full, executable, size, stat));

    /// <summary>
    /// Every file under <paramref name="root"/> the filter keeps, sorted ordinally by relative path, each made by
    /// <paramref name="create"/> (relative path, full path, executable, size, stat: the fields of <see cref="WalkedFile"/>), so
    /// a caller with its own record allocates one object per file, not two.
    /// </summary>
    /// <exception cref="FlyteSharpException">A symlink breaks the policy or is broken, a special file is not ignored, or a directory is unreadable.</exception>
    public static List<T> Walk<T>(string root, IWalkFilter filter, WalkPolicy policy, Func<string, string, bool, long, StatInfo?, T> create)
    {
        string realRoot;
        try
        {
            realRoot = RealPath(root);
        }
        catch (IOException ex)
        {
            throw new FlyteSharpException($"cannot resolve symlinks: {ex.Message}", root, fix: $"fix or remove the symlink loop, or exclude it in {policy.IgnoreFileName}");
        }

        var files = new List<T>();
        Walk(root, "", filter, policy, realRoot, realRoot, [realRoot], create, files);
        return files;
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
    private static void Walk<T>(string dir, string prefix, IWalkFilter parentRules, WalkPolicy policy, string realRoot, string realDir, HashSet<string> realAncestors,
        Func<string, string, bool, long, StatInfo?, T> create, List<T> files)
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
                fix: $"make it readable, or exclude it in {policy.IgnoreFileName}");
        }

        // Sorted by name up front, files are kept in path order as they are met (a name sorts as the relative path ending in it
        // does, and names are far shorter to compare); subdirectories are ordered again below, as their names plus "/".
        CollectionsMarshal.AsSpan(entries).Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        List<(string Full, string Relative, string Real)>? subdirectories = null;
        List<(string Relative, T File)>? here = null;
        IWalkFilter rules;
        try
        {
            var fd = handle == 0 ? -1 : UnixStat.DirectoryFd(handle);
            rules = parentRules.Enter(dir, prefix, entries);
            foreach (var (name, type, invalidName) in entries)
            {
                if (policy.SkipGit && name == ".git")
                {
                    continue;
                }

                var relative = prefix + name;
                if (invalidName is not null)
                {
                    // Checked before any use of the name: the lossily decoded string names no file on disk.
                    if (rules.IsIgnored(relative, isDirectory: type == UnixStat.DtDirectory))
                    {
                        continue;
                    }

                    throw new FlyteSharpException($"file name is not valid UTF-8: '{prefix}{invalidName}'", dir,
                        fix: $"rename it (bundle entries and Python module names are UTF-8), or exclude it in {policy.IgnoreFileName}");
                }

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
                string? linkTarget = null;
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

                    var resolved = Resolve(new FileInfo(full), relative, realRoot, policy);
                    isDirectory = resolved is DirectoryInfo;
                    linkTarget = resolved.FullName;

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
                            fix: $"remove it, or exclude '{relative}' in {policy.IgnoreFileName}");
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

                (here ??= []).Add((relative, create(relative, policy.LinkPathIsTarget && linkTarget is not null ? linkTarget : full, executable, size, stat)));
            }
        }
        finally
        {
            // Closed before descending: open descriptors stay bounded whatever the tree's depth.
            UnixStat.CloseDirectory(handle);
        }

        subdirectories?.Sort((a, b) => CompareEntries(a.Relative, true, b.Relative, true));
        var (fileCount, directoryCount) = (here?.Count ?? 0, subdirectories?.Count ?? 0);
        for (int f = 0, d = 0; f < fileCount || d < directoryCount;)
        {
            if (d == directoryCount || f < fileCount && CompareEntries(here![f].Relative, false, subdirectories![d].Relative, true) < 0)
            {
                files.Add(here![f++].File);
                continue;
            }

            var (full, relative, real) = subdirectories![d++];
            if (!realAncestors.Add(real))
            {
                throw new FlyteSharpException($"symlink loop: '{relative}' leads back to one of its parent directories", full,
                    fix: $"remove the link, or exclude '{relative}' in {policy.IgnoreFileName}");
            }

            Walk(full, relative + "/", rules, policy, realRoot, real, realAncestors, create, files);
            realAncestors.Remove(real);
        }
    }

    // Orders two entries of one directory as their paths sort in the walk's result: a directory as its name plus "/" (everything
    // below it starts so), without building that string. Names hold no "/", so one character past the common prefix decides.
    private static int CompareEntries(string a, bool aIsDirectory, string b, bool bIsDirectory)
    {
        var common = Math.Min(a.Length, b.Length);
        var order = a.AsSpan(0, common).SequenceCompareTo(b.AsSpan(0, common));
        if (order != 0)
        {
            return order;
        }

        int Next(string s, bool isDirectory) => s.Length > common ? s[common] : isDirectory ? '/' : -1;
        var next = Next(a, aIsDirectory).CompareTo(Next(b, bIsDirectory));
        return next != 0 ? next : a.Length.CompareTo(b.Length);
    }

    private static FileSystemInfo Resolve(FileSystemInfo link, string relative, string realRoot, WalkPolicy policy)
    {
        string real;
        try
        {
            real = RealPath(link.FullName);
        }
        catch (IOException ex)
        {
            throw new FlyteSharpException($"cannot resolve symlink: {ex.Message}", link.FullName,
                fix: $"fix or remove the link, or exclude it in {policy.IgnoreFileName}");
        }

        FileSystemInfo target = Directory.Exists(real) ? new DirectoryInfo(real) : new FileInfo(real);
        if (!target.Exists)
        {
            throw new FlyteSharpException($"'{relative}' is a broken symlink (points to '{link.LinkTarget}', which does not exist)", link.FullName,
                fix: $"fix or remove the link, or exclude it in {policy.IgnoreFileName}");
        }

        if (target is DirectoryInfo && !policy.FollowDirectoryLinks)
        {
            throw new FlyteSharpException(string.Format(CultureInfo.InvariantCulture, policy.DirectoryLinkRefusal, relative), link.FullName,
                fix: $"replace the link with a real directory, or exclude it in {policy.IgnoreFileName}");
        }

        if (!IsUnder(real, realRoot))
        {
            throw new FlyteSharpException(string.Format(CultureInfo.InvariantCulture, policy.OutsideLinkRefusal, relative, real, realRoot), link.FullName,
                fix: policy.OutsideLinkFix);
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
