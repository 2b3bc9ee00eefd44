using System.Text.RegularExpressions;
using FlyteSharp.Configuration;
using Tomlyn.Model;

namespace FlyteSharp.Projects.Uv;

/// <summary>
/// A uv project read from its <c>pyproject.toml</c>: name, Python range, dependency groups,
/// <c>[tool.uv.sources]</c> and workspace members. Group names are normalized as uv does
/// (lower case, runs of <c>-_.</c> become <c>-</c>).
/// </summary>
public sealed partial class UvProject
{
    private UvProject(string file)
    {
        File = file;
        Directory = Path.GetDirectoryName(file)!;
    }

    /// <summary>Full path of <c>pyproject.toml</c>.</summary>
    public string File { get; }

    /// <summary>The project's directory.</summary>
    public string Directory { get; }

    /// <summary><c>[project].name</c>.</summary>
    public string Name { get; private init; } = "";

    /// <summary><c>[project].version</c>, if static.</summary>
    public string? Version { get; private init; }

    /// <summary><c>[project].requires-python</c>, if set.</summary>
    public string? RequiresPython { get; private init; }

    /// <summary><c>[project].dependencies</c>.</summary>
    public IReadOnlyList<string> Dependencies { get; private init; } = [];

    /// <summary><c>[project.optional-dependencies]</c> (extras) by normalized extra name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> OptionalDependencies { get; private init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary><c>[project].dynamic</c>: fields a build backend computes, which uv.lock then records without pyproject.toml stating them.</summary>
    public IReadOnlyList<string> Dynamic { get; private init; } = [];

    /// <summary>
    /// <c>[dependency-groups]</c> by normalized name (legacy <c>[tool.uv].dev-dependencies</c> joins <c>dev</c>);
    /// entries are requirement strings, or <c>include-group:NAME</c> for an included group.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> DependencyGroups { get; private init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary><c>[tool.uv.sources]</c> by normalized package name.</summary>
    public IReadOnlyDictionary<string, UvSource> Sources { get; private init; } = new Dictionary<string, UvSource>();

    /// <summary><c>[tool.uv.workspace].members</c> globs, relative to <see cref="Directory"/>.</summary>
    public IReadOnlyList<string> WorkspaceMembers { get; private init; } = [];

    /// <summary><c>[tool.uv.workspace].exclude</c> globs.</summary>
    public IReadOnlyList<string> WorkspaceExclude { get; private init; } = [];

    /// <summary><c>[tool.uv].package</c>, when set explicitly.</summary>
    public bool? Package { get; private init; }

    /// <summary>The line of each of <see cref="WorkspaceMembers"/> in the file (for errors about a glob).</summary>
    internal IReadOnlyList<int?> WorkspaceMemberLines { get; private init; } = [];

    /// <summary>The line of <c>members</c> in <c>[tool.uv.workspace]</c>, if written.</summary>
    internal int? WorkspaceMembersLine { get; private init; }

    /// <summary>The line of <c>dependencies</c> in <c>[project]</c>, if written.</summary>
    internal int? DependenciesLine { get; private init; }

    /// <summary>The line of the <c>[dependency-groups]</c> table, if written.</summary>
    internal int? DependencyGroupsLine { get; private init; }

    /// <summary>True when the file has a <c>[build-system]</c> table.</summary>
    public bool HasBuildSystem { get; private init; }

    /// <summary>Reads a <c>pyproject.toml</c>.</summary>
    /// <exception cref="FlyteSharpException">Missing file, malformed TOML, no <c>[project]</c>, or wrongly typed keys.</exception>
    public static UvProject Load(string pyprojectFile)
    {
        var doc = TomlDocument.Load(pyprojectFile, "pyproject.toml");
        var file = doc.File;
        var root = doc.Root;
        if (!root.TryGetValue("project", out var p) || p is not TomlTable project)
        {
            throw new FlyteSharpException("pyproject.toml has no [project] table", file, doc.LineOf(root, "project"),
                "add [project] with at least name = \"…\" and requires-python (see https://packaging.python.org/en/latest/specifications/pyproject-toml/)");
        }

        var name = project.TryGetValue("name", out var n) && n is string ns && ns.Length > 0 ? ns
            : throw new FlyteSharpException("[project] has no name", file, doc.LineOf(root, "project"), "add name = \"my-app\" under [project]");

        var groups = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (root.TryGetValue("dependency-groups", out var g))
        {
            if (g is not TomlTable groupTable)
            {
                throw new FlyteSharpException("[dependency-groups] must be a table of arrays", file, doc.LineOf(root, "dependency-groups"), "write it as [dependency-groups] with name = [\"pkg\", …]");
            }

            foreach (var (groupName, value) in groupTable)
            {
                if (value is not TomlArray items)
                {
                    throw new FlyteSharpException($"dependency group '{groupName}' must be an array", file, doc.LineOf(groupTable, groupName), $"write {groupName} = [\"pkg\", …]");
                }

                var normalized = NormalizeName(groupName);
                if (groups.ContainsKey(normalized))
                {
                    throw new FlyteSharpException($"dependency group '{groupName}' is defined twice (names are compared normalized: '{normalized}')", file, doc.LineOf(groupTable, groupName), "merge the two groups");
                }

                groups[normalized] = items.Select(i => i switch
                {
                    string s => s,
                    TomlTable t when t.TryGetValue("include-group", out var ig) && ig is string igs => "include-group:" + NormalizeName(igs),
                    _ => throw new FlyteSharpException($"dependency group '{groupName}' has an entry that is neither a requirement string nor {{ include-group = \"…\" }}", file, doc.LineOf(groupTable, groupName), "use requirement strings such as \"pandas>=2\""),
                }).ToList();
            }
        }

        var tool = Table(root, "tool");
        var uv = Table(tool, "uv");
        if (uv is not null && uv.TryGetValue("dev-dependencies", out var devDeps) && devDeps is TomlArray devArray)
        {
            var existing = groups.TryGetValue("dev", out var d) ? d : [];
            groups["dev"] = existing.Concat(devArray.OfType<string>()).ToList();
        }

        var sources = new Dictionary<string, UvSource>(StringComparer.Ordinal);
        if (Table(uv, "sources") is { } sourceTable)
        {
            foreach (var (package, value) in sourceTable)
            {
                var line = doc.LineOf(sourceTable, package);
                if (value is not TomlTable s)
                {
                    throw new FlyteSharpException($"[tool.uv.sources] entry '{package}' must be a table", file, line,
                        $"write {package} = {{ path = \"../{package}\", editable = true }} (or git/url/index/workspace)");
                }

                var source = new UvSource(NormalizeName(package),
                    Str(s, "path"), s.TryGetValue("editable", out var e) && e is true,
                    s.TryGetValue("workspace", out var w) && w is true,
                    Str(s, "git"), Str(s, "url"), Str(s, "index"), line);
                if (source.Path is null && !source.Workspace && source.Git is null && source.Url is null && source.Index is null)
                {
                    throw new FlyteSharpException($"[tool.uv.sources] entry '{package}' has none of path, workspace, git, url, index", file, line,
                        $"write {package} = {{ path = \"../{package}\", editable = true }}");
                }

                sources[source.Package] = source;
            }
        }

        var workspace = Table(uv, "workspace");
        var (members, memberLines) = (new List<string>(), new List<int?>());
        if (workspace is not null && workspace.TryGetValue("members", out var m) && m is TomlArray memberArray)
        {
            for (var i = 0; i < memberArray.Count; i++)
            {
                if (memberArray[i] is string glob)
                {
                    members.Add(glob);
                    memberLines.Add(doc.LineOfItem(["tool", "uv", "workspace", "members"], i) ?? doc.LineOf(workspace, "members"));
                }
            }
        }

        return new UvProject(file)
        {
            Name = name,
            Version = Str(project, "version"),
            RequiresPython = Str(project, "requires-python"),
            Dependencies = project.TryGetValue("dependencies", out var deps) && deps is TomlArray da ? da.OfType<string>().ToList() : [],
            OptionalDependencies = project.TryGetValue("optional-dependencies", out var od) && od is TomlTable odt
                ? odt.Where(kv => kv.Value is TomlArray).ToDictionary(kv => NormalizeName(kv.Key), kv => (IReadOnlyList<string>)((TomlArray)kv.Value!).OfType<string>().ToList(), StringComparer.Ordinal)
                : new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal),
            Dynamic = StrList(project, "dynamic"),
            DependencyGroups = groups,
            Sources = sources,
            WorkspaceMembers = members,
            WorkspaceMemberLines = memberLines,
            WorkspaceMembersLine = workspace is null ? null : doc.LineOf(workspace, "members"),
            DependenciesLine = doc.LineOf(project, "dependencies"),
            DependencyGroupsLine = doc.LineOf(root, "dependency-groups"),
            WorkspaceExclude = StrList(workspace, "exclude"),
            Package = uv is not null && uv.TryGetValue("package", out var pk) && pk is bool b ? b : null,
            HasBuildSystem = root.ContainsKey("build-system"),
        };
    }

    /// <summary>The full paths of the path dependencies (<c>{ path = … }</c> sources), checked to exist and hold a <c>pyproject.toml</c>.</summary>
    /// <exception cref="FlyteSharpException">A path source does not exist or is not a Python project.</exception>
    public IReadOnlyList<(UvSource Source, string Directory)> PathDependencies()
    {
        var result = new List<(UvSource, string)>();
        foreach (var source in Sources.Values.Where(s => s.IsPath).OrderBy(s => s.Package, StringComparer.Ordinal))
        {
            var dir = Path.GetFullPath(Path.Combine(Directory, source.Path!));
            if (System.IO.File.Exists(dir))
            {
                // A path to a wheel or sdist: uv installs the archive itself.
                result.Add((source, dir));
                continue;
            }

            if (!System.IO.Directory.Exists(dir))
            {
                throw new FlyteSharpException($"path dependency '{source.Package}' points at '{source.Path}', which does not exist ({dir})", File, source.Line,
                    "fix the path in [tool.uv.sources] (it is relative to this pyproject.toml)");
            }

            if (!System.IO.File.Exists(Path.Combine(dir, "pyproject.toml")) && !System.IO.File.Exists(Path.Combine(dir, "setup.py")))
            {
                throw new FlyteSharpException($"path dependency '{source.Package}' at '{source.Path}' is not a Python project (no pyproject.toml)", File, source.Line,
                    $"add a pyproject.toml to {dir}");
            }

            result.Add((source, dir));
        }

        return result;
    }

    /// <summary>The workspace member directories matched by <see cref="WorkspaceMembers"/> (minus <see cref="WorkspaceExclude"/>), sorted.</summary>
    /// <exception cref="FlyteSharpException">A glob matches nothing, a member lies outside the workspace root, or a member has no pyproject.toml.</exception>
    public IReadOnlyList<string> WorkspaceMemberDirectories()
    {
        var included = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (glob, line) in WorkspaceMembers.Zip(WorkspaceMemberLines))
        {
            var matched = ExpandGlob(glob).ToList();
            if (matched.Count == 0)
            {
                throw new FlyteSharpException($"workspace member glob '{glob}' matches no directory under {Directory}", File, line,
                    "fix the glob in [tool.uv.workspace] members (it is relative to this pyproject.toml), or remove it");
            }

            foreach (var member in matched)
            {
                if (!IsUnder(member, Directory))
                {
                    throw new FlyteSharpException($"workspace member '{glob}' resolves to {member}, outside the workspace root {Directory}", File, line,
                        "uv workspace members must live under the workspace root: move the package under it, or depend on it as a path dependency ({ path = \"…\" }) instead");
                }

                included.Add(member);
            }
        }

        included.ExceptWith(WorkspaceExclude.SelectMany(ExpandGlob));
        included.Remove(Directory);
        foreach (var member in included.Order(StringComparer.Ordinal))
        {
            if (!System.IO.File.Exists(Path.Combine(member, "pyproject.toml")))
            {
                throw new FlyteSharpException($"workspace member '{Path.GetRelativePath(Directory, member).Replace('\\', '/')}' has no pyproject.toml", File,
                    WorkspaceMembersLine, $"add a pyproject.toml to {member}, or list it under exclude in [tool.uv.workspace]");
            }
        }

        return included.OrderBy(x => x, StringComparer.Ordinal).ToList();
    }

    private static bool IsUnder(string path, string dir) =>
        path == dir || path.StartsWith(Path.EndsInDirectorySeparator(dir) ? dir : dir + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>Normalizes a package or group name as PEP 503/735 do.</summary>
    internal static string NormalizeName(string name) => Separators().Replace(name.Trim(), "-").ToLowerInvariant();

    private IEnumerable<string> ExpandGlob(string glob)
    {
        IEnumerable<string> current = [Directory];
        foreach (var segment in glob.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == ".")
            {
                continue;
            }

            current = segment.Contains('*') || segment.Contains('?')
                ? current.Where(System.IO.Directory.Exists).SelectMany(d => System.IO.Directory.EnumerateDirectories(d, segment))
                : current.Select(d => Path.GetFullPath(Path.Combine(d, segment)));
        }

        return current.Where(System.IO.Directory.Exists).Select(Path.GetFullPath);
    }

    private static TomlTable? Table(TomlTable? parent, string key) =>
        parent is not null && parent.TryGetValue(key, out var v) && v is TomlTable t ? t : null;

    private static string? Str(TomlTable? t, string key) => t is not null && t.TryGetValue(key, out var v) && v is string s ? s : null;

    private static List<string> StrList(TomlTable? t, string key) =>
        t is not null && t.TryGetValue(key, out var v) && v is TomlArray a ? a.OfType<string>().ToList() : [];

    [GeneratedRegex("[-_.]+")]
    private static partial Regex Separators();
}
