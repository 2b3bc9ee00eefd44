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

    // Declared before StandardIgnores: static initializers run in textual order.
    private static readonly string[] CredentialIgnoreList =
    [
        ".env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
        ".netrc", ".npmrc", ".pypirc", ".git-credentials", ".pgpass", "**/.docker/config.json", ".aws/", ".ssh/",
        ".gnupg/", ".kube/",
    ];

    /// <summary>
    /// Patterns excluded from every bundle unless an ignore file re-includes them with <c>!pattern</c>: flyte-sdk's
    /// standard ignores (virtual environments, caches, logs, build output, wheels and eggs, <c>.env</c>), .NET build
    /// output, notebook checkpoints, and <see cref="CredentialIgnores"/>.
    /// </summary>
    /// <remarks>
    /// flyte-sdk ignores <c>build</c>, <c>dist</c>, <c>env</c> and <c>venv</c> whether file or directory; here they are
    /// directories only (<c>build/</c>), since a file named <c>build</c> is usually a script that belongs to the code.
    /// </remarks>
    public static IReadOnlyList<string> StandardIgnores { get; } =
    [
        ".venv/", "venv/", "env/", "__pycache__/", "*.pyc", ".cache/", ".mypy_cache/", ".pytest_cache/", ".ruff_cache/",
        ".idea/", "*.egg-info/", "*.egg", "*.whl", "*.log", "dist/", "build/", "bin/", "obj/", ".ipynb_checkpoints/",
        ".tox/", ".nox/", ".DS_Store", BundleExtractor.MarkerFileName,
        .. CredentialIgnoreList,
    ];

    /// <summary>
    /// The part of <see cref="StandardIgnores"/> that keeps credentials out of bundles: environment files, private keys
    /// and certificates, the login files of package managers and clouds. Re-including one (<c>!.env</c> in
    /// <c>.flyteignore</c>) works, and every bundle built that way warns, naming the file and the rule.
    /// </summary>
    public static IReadOnlyList<string> CredentialIgnores => CredentialIgnoreList;

    private static readonly string[] IgnoreFileNames = [".gitignore", FlyteIgnoreFileName];

    private static readonly WalkPolicy Policy = new(FlyteIgnoreFileName, SkipGit: true, FollowDirectoryLinks: true,
        DirectoryLinkRefusal: "",
        OutsideLinkRefusal: "symlink points outside root_dir (to '{1}')",
        OutsideLinkFix: $"copy the target into root_dir, move root_dir up so it contains the target, or exclude the link in {FlyteIgnoreFileName}",
        LinkPathIsTarget: false);

    // Immutable, so parsed once per process.
    private static readonly Lazy<StandardIgnore> StandardRules = new(() => new StandardIgnore(StandardIgnores, IgnoreDialect.Gitignore, CredentialIgnoreList));

    /// <summary>
    /// Lists the bundle's files under <paramref name="rootDir"/>, sorted ordinally by
    /// <see cref="BundleFile.RelativePath"/>. Reads no file contents (only ignore files).
    /// </summary>
    /// <param name="rootDir">The bundle's root.</param>
    /// <param name="warning">Receives a warning for every credential file or directory (<see cref="CredentialIgnores"/>)
    /// that is selected only because a <c>!</c> rule re-includes it.</param>
    /// <exception cref="FlyteSharpException">root_dir is missing or not a directory; a symlink points
    /// outside root_dir or nowhere; a special file (FIFO, socket, device) is not ignored; a directory is unreadable;
    /// a file's name could not be unpacked from a bundle (a backslash in it, or a top-level name like <c>c:x</c>).</exception>
    public static IReadOnlyList<BundleFile> Select(string rootDir, Action<string>? warning = null) =>
        SelectWithStat(rootDir, warning).Select(f => f.File).ToList();

    /// <summary><see cref="Select"/> plus each file's stat (taken once, reused by the bundle cache's fingerprint).</summary>
    internal static List<(BundleFile File, StatInfo? Stat)> SelectWithStat(string rootDir, Action<string>? warning = null)
    {
        var root = CheckRoot(rootDir);
        var files = FileWalker.Walk(root, new BundleIgnoreFilter(new IgnoreGroup(StandardRules.Value, GitIgnore.ForFiles(IgnoreFileNames)), StandardRules.Value, warning), Policy)
            .ConvertAll(f => (File: new BundleFile(f.RelativePath, f.FullPath, f.Executable, f.Size), f.Stat));
        foreach (var (file, _) in files)
        {
            // Refused now, not on every run: the extractor would refuse the entry and a rebuild makes the same bundle.
            if (BundleEntryName.Problem(file.RelativePath) is { } problem)
            {
                throw new FlyteSharpException($"file name cannot go into a bundle ({problem}): every run would refuse to unpack it", file.FullPath,
                    fix: UnbundlableNameFix(file.RelativePath));
            }
        }

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

    private static string UnbundlableNameFix(string relativePath)
    {
        var parts = relativePath.Split('/');
        var bad = Array.FindIndex(parts, p => p.Contains('\\'));
        if (bad < 0)
        {
            return "rename it: a top-level name like 'c:x' reads as a Windows drive";
        }

        // gitignore escapes a backslash with a backslash; a slash-free pattern matches the name at any depth.
        var pattern = parts[bad].Replace("\\", "\\\\", StringComparison.Ordinal) + (bad < parts.Length - 1 ? "/" : "");
        return $"rename it (a backslash is a path separator on Windows), or exclude it with the line '{pattern}' in {FlyteIgnoreFileName}";
    }

    /// <summary>
    /// The full path of <paramref name="rootDir"/> once it is known to be a directory (or a link to one) a bundle can be made of.
    /// </summary>
    /// <param name="rootDir">The code bundle's root.</param>
    /// <exception cref="FlyteSharpException">It does not exist, is not a directory, or is a broken link or a link loop.</exception>
    public static string CheckRoot(string rootDir)
    {
        ArgumentNullException.ThrowIfNull(rootDir);
        var root = Path.GetFullPath(rootDir);
        if (new FileInfo(root).LinkTarget is { } target)
        {
            // File.Exists is true and Directory.Exists false for a link that resolves nowhere: say which it is.
            string real;
            try
            {
                real = FileWalker.RealPath(root);
            }
            catch (IOException)
            {
                throw new FlyteSharpException("root_dir is a symlink loop (its link chain never reaches a directory)", root,
                    fix: "point the link at your project's source directory, or set root_dir to that directory itself");
            }

            if (!File.Exists(real) && !Directory.Exists(real))
            {
                throw new FlyteSharpException($"root_dir is a broken symlink (points to '{target}', which does not exist)", root,
                    fix: "fix the link, or set root_dir to your project's source directory (src/ for src layout)");
            }
        }

        if (File.Exists(root) && !Directory.Exists(root))
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

    /// <summary>
    /// Per directory from root_dir down, its <c>.gitignore</c> then its <c>.flyteignore</c> join the rules; a credential
    /// kept only by a <c>!</c> rule is warned about.
    /// </summary>
    private sealed class BundleIgnoreFilter(IIgnore rules, StandardIgnore standard, Action<string>? warning) : IWalkFilter
    {
        public IWalkFilter Enter(string directory, string relativePrefix, IReadOnlyList<DirectoryEntry> entries)
        {
            var deeper = rules.Enter(directory, relativePrefix, entries);
            return ReferenceEquals(deeper, rules) ? this : new BundleIgnoreFilter(deeper, standard, warning);
        }

        public bool IsIgnored(string relativePath, bool isDirectory)
        {
            // Re-included entries are rare, so only they pay for the credential check.
            var winner = rules.Winner(relativePath, isDirectory);
            if (winner is { Negated: true } && standard.CredentialRule(relativePath, isDirectory) is { } credential)
            {
                warning?.Invoke($"'{relativePath}{(isDirectory ? "/" : "")}' is a credential {(isDirectory ? "directory" : "file")} that bundles leave out by default, " +
                                $"but it will be shipped: standard ignore '{credential.Text}' is overridden by '{winner.Text}' ({winner.Location}); " +
                                "remove that rule unless the bundle really needs it");
            }

            return winner is { Negated: false };
        }
    }
}
