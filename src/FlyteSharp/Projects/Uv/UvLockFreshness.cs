using System.Text.RegularExpressions;

namespace FlyteSharp.Projects.Uv;

/// <summary>
/// Finds a uv.lock that no longer matches its pyproject.toml files without running uv: for the root and every
/// workspace member, the <c>dependencies</c>, <c>optional-dependencies</c> and <c>[dependency-groups]</c> are compared
/// with what uv recorded for that package (<c>[package.metadata] requires-dist</c> and <c>requires-dev</c>).
/// Requirements are compared as uv normalizes them: names and extras normalized (PEP 503), specifiers without
/// whitespace and in sorted order. Markers are not compared (uv rewrites them in its own canonical form), and
/// neither are the specifiers of packages that come from a <c>[tool.uv.sources]</c> path, workspace, git or URL
/// source (uv records the source there, not the specifier).
/// </summary>
internal static partial class UvLockFreshness
{
    /// <summary>Every package of <paramref name="workspace"/> whose declared requirements differ from the lock's record.</summary>
    public static IReadOnlyList<UvLockDrift> Check(UvWorkspace workspace, UvLock lockFile)
    {
        var drifts = new List<UvLockDrift>();
        foreach (var package in workspace.Packages.Concat(PathDependencies(workspace)))
        {
            var project = package.Project;
            var locked = lockFile.Packages.FirstOrDefault(p => p.IsLocal && UvProject.NormalizeName(p.Name) == package.Name)
                ?? lockFile.Packages.FirstOrDefault(p => UvProject.NormalizeName(p.Name) == package.Name);
            if (locked is null)
            {
                drifts.Add(new UvLockDrift(package, [$"the package '{project.Name}' itself"], []));
                continue;
            }

            var sourced = SourcedNames(workspace, package);
            var added = new List<string>();
            var removed = new List<string>();
            if (!project.Dynamic.Contains("dependencies") && !project.Dynamic.Contains("optional-dependencies"))
            {
                var declared = project.Dependencies.Concat(project.OptionalDependencies.Values.SelectMany(v => v));
                Compare(declared, declared, locked.RequiresDist, sourced, added, removed);
            }

            var groups = project.DependencyGroups.Keys.Union(locked.RequiresDev.Keys).Order(StringComparer.Ordinal);
            foreach (var group in groups)
            {
                var own = project.DependencyGroups.TryGetValue(group, out var entries) ? entries.Where(e => !e.StartsWith("include-group:", StringComparison.Ordinal)).ToList() : [];
                var withIncluded = Expand(project, group, []);
                Compare(own, withIncluded, locked.RequiresDev.TryGetValue(group, out var recorded) ? recorded : [], sourced, added, removed);
            }

            if (added.Count > 0 || removed.Count > 0)
            {
                drifts.Add(new UvLockDrift(package, added.Distinct().ToList(), removed.Distinct().ToList()));
            }
        }

        return drifts;
    }

    /// <summary>The local path dependencies (directories with a pyproject.toml) of the workspace's packages, followed transitively: uv locks their metadata too.</summary>
    private static List<UvWorkspaceMember> PathDependencies(UvWorkspace workspace)
    {
        var seen = workspace.Packages.Select(p => p.Directory).ToHashSet(StringComparer.Ordinal);
        var result = new List<UvWorkspaceMember>();
        var queue = new Queue<UvProject>(workspace.Packages.Select(p => p.Project));
        while (queue.Count > 0)
        {
            foreach (var (_, dir) in queue.Dequeue().PathDependencies())
            {
                var pyproject = Path.Combine(dir, "pyproject.toml");
                if (File.Exists(pyproject) && seen.Add(dir))
                {
                    var project = UvProject.Load(pyproject);
                    result.Add(new UvWorkspaceMember(project, false, dir));
                    queue.Enqueue(project);
                }
            }
        }

        return result;
    }

    /// <summary>Compares requirements: each of <paramref name="own"/> must be recorded; each recorded one must be in <paramref name="allowed"/> (own plus included groups, which uv may flatten).</summary>
    private static void Compare(IEnumerable<string> own, IEnumerable<string> allowed, IReadOnlyList<UvLockRequirement> recorded, HashSet<string> sourced, List<string> added, List<string> removed)
    {
        var recordedKeys = recorded.Where(r => r.Name.Length > 0).Select(r => Key(r.Name, r.Extras, r.Specifier, sourced)).ToHashSet(StringComparer.Ordinal);
        var allowedKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in allowed)
        {
            if (Parse(text) is { } r)
            {
                allowedKeys.Add(Key(r.Name, r.Extras, r.Specifier, sourced));
            }
        }

        foreach (var text in own)
        {
            if (Parse(text) is { } r && !recordedKeys.Contains(Key(r.Name, r.Extras, r.Specifier, sourced)))
            {
                added.Add(text.Trim());
            }
        }

        foreach (var r in recorded.Where(r => r.Name.Length > 0))
        {
            if (!allowedKeys.Contains(Key(r.Name, r.Extras, r.Specifier, sourced)))
            {
                removed.Add(r.Specifier is { Length: > 0 } s && !sourced.Contains(UvProject.NormalizeName(r.Name)) ? r.Name + s : r.Name);
            }
        }
    }

    private static List<string> Expand(UvProject project, string group, HashSet<string> seen)
    {
        if (!seen.Add(group) || !project.DependencyGroups.TryGetValue(group, out var entries))
        {
            return [];
        }

        var result = new List<string>();
        foreach (var entry in entries)
        {
            if (entry.StartsWith("include-group:", StringComparison.Ordinal))
            {
                result.AddRange(Expand(project, entry["include-group:".Length..], seen));
            }
            else
            {
                result.Add(entry);
            }
        }

        return result;
    }

    /// <summary>Names whose specifier uv does not record: non-index sources of this package or of the workspace root (members inherit them), and the workspace's own packages.</summary>
    private static HashSet<string> SourcedNames(UvWorkspace workspace, UvWorkspaceMember package)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in workspace.Root.Sources.Values.Concat(package.Project.Sources.Values))
        {
            if (source.Index is null)
            {
                names.Add(source.Package);
            }
        }

        foreach (var member in workspace.Packages)
        {
            names.Add(member.Name);
        }

        return names;
    }

    private static string Key(string name, IReadOnlyList<string> extras, string? specifier, HashSet<string> sourced)
    {
        var normalized = UvProject.NormalizeName(name);
        var extraText = string.Join(",", extras.Select(UvProject.NormalizeName).Distinct().Order(StringComparer.Ordinal));
        var spec = sourced.Contains(normalized) ? "" : NormalizeSpecifier(specifier);
        return $"{normalized}[{extraText}]{spec}";
    }

    internal static string NormalizeSpecifier(string? specifier)
    {
        if (string.IsNullOrWhiteSpace(specifier))
        {
            return "";
        }

        var parts = Whitespace().Replace(specifier, "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.ToLowerInvariant());
        return string.Join(",", parts.Distinct().Order(StringComparer.Ordinal));
    }

    /// <summary>Parses a PEP 508 requirement string's name, extras and specifier (URL and marker are dropped).</summary>
    internal static (string Name, IReadOnlyList<string> Extras, string? Specifier)? Parse(string requirement)
    {
        var text = requirement;
        var semicolon = text.IndexOf(';', StringComparison.Ordinal);
        if (semicolon >= 0)
        {
            text = text[..semicolon];
        }

        var m = Requirement().Match(text.Trim());
        if (!m.Success)
        {
            return null;
        }

        var extras = m.Groups["extras"].Success
            ? m.Groups["extras"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
            : [];
        var rest = m.Groups["rest"].Value.Trim();
        if (rest.StartsWith('@'))
        {
            return (m.Groups["name"].Value, extras, null);
        }

        rest = rest.Trim('(', ')', ' ');
        return (m.Groups["name"].Value, extras, rest.Length == 0 ? null : rest);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[(?<extras>[^\]]*)\])?\s*(?<rest>.*)$")]
    private static partial Regex Requirement();
}
