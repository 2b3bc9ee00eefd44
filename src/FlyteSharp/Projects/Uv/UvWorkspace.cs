namespace FlyteSharp.Projects.Uv;

/// <summary>
/// A uv project with its workspace: the root package and every member matched by
/// <c>[tool.uv.workspace] members</c> (minus <c>exclude</c>), each read from its own pyproject.toml. A project
/// without a workspace table is a workspace of one. Checked on load: every glob matches, every member is under
/// the root and has a pyproject.toml, and every <c>{ workspace = true }</c> source names a package of the workspace.
/// </summary>
internal sealed class UvWorkspace
{
    private UvWorkspace(UvProject root, IReadOnlyList<UvWorkspaceMember> packages)
    {
        Root = root;
        Packages = packages;
    }

    /// <summary>The workspace root's project.</summary>
    public UvProject Root { get; }

    /// <summary>The root package first, then the members sorted by directory.</summary>
    public IReadOnlyList<UvWorkspaceMember> Packages { get; }

    /// <summary>The members (every package but the root).</summary>
    public IEnumerable<UvWorkspaceMember> Members => Packages.Where(p => !p.IsRoot);

    /// <summary>True when the root declares members.</summary>
    public bool HasMembers => Packages.Count > 1;

    /// <summary>The package names, normalized, sorted.</summary>
    public IReadOnlyList<string> PackageNames => Packages.Select(p => p.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>Reads the members of <paramref name="root"/>'s workspace.</summary>
    /// <exception cref="FlyteSharpException">A bad glob or member, or a workspace source naming no member.</exception>
    public static UvWorkspace Load(UvProject root)
    {
        var packages = new List<UvWorkspaceMember> { For(root, isRoot: true) };
        foreach (var dir in root.WorkspaceMemberDirectories())
        {
            packages.Add(For(UvProject.Load(Path.Combine(dir, "pyproject.toml")), isRoot: false));
        }

        var names = packages.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var package in packages)
        {
            foreach (var source in package.Project.Sources.Values.Where(s => s.Workspace).OrderBy(s => s.Package, StringComparer.Ordinal))
            {
                if (!names.Contains(source.Package))
                {
                    var members = packages.Count == 1 ? "the workspace has no members" : "members: " + string.Join(", ", packages.Skip(1).Select(p => p.Name).Order(StringComparer.Ordinal));
                    throw new FlyteSharpException($"[tool.uv.sources] says '{source.Package}' comes from the workspace, but no workspace package has that name ({members})",
                        package.Project.File, source.Line,
                        $"add the package's directory to [tool.uv.workspace] members in {root.File}, or fix the name");
                }
            }
        }

        return new UvWorkspace(root, packages);
    }

    /// <summary>The package named <paramref name="name"/> (normalized), or null.</summary>
    public UvWorkspaceMember? Find(string name)
    {
        var normalized = UvProject.NormalizeName(name);
        return Packages.FirstOrDefault(p => p.Name == normalized);
    }

    /// <summary>
    /// The <c>sys.path</c> entries, relative to <paramref name="rootDir"/> (POSIX), that make every package of the
    /// workspace importable from a bundle of root_dir: each package's import root under root_dir, except root_dir
    /// itself (the runner always puts the bundle directory first). Packages outside root_dir contribute nothing.
    /// </summary>
    public IReadOnlyList<string> ImportPaths(string rootDir)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDir));
        var result = new List<string>();
        foreach (var package in Packages)
        {
            var importRoot = Path.TrimEndingDirectorySeparator(package.ImportRoot);
            if (importRoot != root && importRoot.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                var relative = Path.GetRelativePath(root, importRoot).Replace('\\', '/');
                if (!result.Contains(relative))
                {
                    result.Add(relative);
                }
            }
        }

        return result;
    }

    private static UvWorkspaceMember For(UvProject project, bool isRoot)
    {
        var src = Path.Combine(project.Directory, "src");
        return new UvWorkspaceMember(project, isRoot, System.IO.Directory.Exists(src) ? src : project.Directory);
    }
}
