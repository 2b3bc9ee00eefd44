namespace FlyteSharp.Projects.Uv;

/// <summary>
/// The <c>extraArgs</c> of a uv project layer, split into tokens and checked against the project:
/// every group named by <c>--only-group</c>, <c>--group</c> or <c>--no-group</c> must exist, and no group
/// may be both included and excluded.
/// </summary>
internal sealed class UvSyncArguments
{
    private static readonly string[] GroupFlags = ["--only-group", "--group", "--no-group"];

    private UvSyncArguments(IReadOnlyList<string> tokens, IReadOnlyList<(string Flag, string Group)> groups, bool allGroups)
    {
        Tokens = tokens;
        Groups = groups;
        AllGroups = allGroups;
    }

    /// <summary>The arguments as separate tokens, in order.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Every group flag with its normalized group name.</summary>
    public IReadOnlyList<(string Flag, string Group)> Groups { get; }

    /// <summary>True when <c>--all-groups</c> is given.</summary>
    public bool AllGroups { get; }

    /// <summary>The groups that will be installed, given the project's groups (uv installs <c>dev</c> by default).</summary>
    public IReadOnlyList<string> SelectedGroups(UvProject project)
    {
        var only = Groups.Where(g => g.Flag == "--only-group").Select(g => g.Group).ToList();
        var selected = AllGroups ? project.DependencyGroups.Keys.ToHashSet()
            : only.Count > 0 ? only.ToHashSet()
            : new HashSet<string>(project.DependencyGroups.ContainsKey("dev") && !Tokens.Contains("--no-dev") ? ["dev"] : []);
        selected.UnionWith(Groups.Where(g => g.Flag == "--group").Select(g => g.Group));
        selected.ExceptWith(Groups.Where(g => g.Flag == "--no-group").Select(g => g.Group));
        return selected.OrderBy(x => x, StringComparer.Ordinal).ToList();
    }

    /// <summary>Splits and validates <paramref name="extraArgs"/> against <paramref name="project"/>.</summary>
    /// <exception cref="FlyteSharpException">Unknown group, missing group name, conflicting flags or an unbalanced quote.</exception>
    public static UvSyncArguments Parse(string? extraArgs, UvProject project)
    {
        var tokens = Tokenize(extraArgs ?? "", project.File);
        var groups = new List<(string, string)>();
        var allGroups = false;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token == "--all-groups")
            {
                allGroups = true;
                continue;
            }

            var flag = GroupFlags.FirstOrDefault(f => token == f || token.StartsWith(f + "=", StringComparison.Ordinal));
            if (flag is null)
            {
                continue;
            }

            string value;
            if (token.Length > flag.Length)
            {
                value = token[(flag.Length + 1)..];
            }
            else if (i + 1 < tokens.Count && !tokens[i + 1].StartsWith('-'))
            {
                value = tokens[++i];
            }
            else
            {
                throw new FlyteSharpException($"extraArgs '{extraArgs}': {flag} needs a group name", project.File,
                    fix: $"write e.g. \"{flag} {project.DependencyGroups.Keys.FirstOrDefault() ?? "dev"}\"");
            }

            var group = UvProject.NormalizeName(value);
            if (!project.DependencyGroups.ContainsKey(group))
            {
                var known = project.DependencyGroups.Count == 0 ? "none" : string.Join(", ", project.DependencyGroups.Keys.Order(StringComparer.Ordinal));
                throw new FlyteSharpException(
                    $"extraArgs '{extraArgs}' names dependency group '{value}', which pyproject.toml does not define (groups: {known})",
                    project.File, new TomlLineFinder(project.File).DependencyGroups(),
                    $"add '{value} = [...]' under [dependency-groups], or use one of: {known}");
            }

            groups.Add((flag, group));
        }

        foreach (var (flag, group) in groups.Where(g => g.Item1 != "--no-group"))
        {
            if (groups.Contains(("--no-group", group)))
            {
                throw new FlyteSharpException($"extraArgs '{extraArgs}' both includes ({flag}) and excludes (--no-group) group '{group}'", project.File,
                    fix: $"keep either {flag} {group} or --no-group {group}");
            }
        }

        if (allGroups && groups.Any(g => g.Item1 == "--only-group"))
        {
            throw new FlyteSharpException($"extraArgs '{extraArgs}' combines --all-groups with --only-group", project.File,
                fix: "use --all-groups, or list the groups with --only-group");
        }

        if (tokens.Contains("--no-dev") && tokens.Contains("--only-dev"))
        {
            throw new FlyteSharpException($"extraArgs '{extraArgs}' combines --no-dev with --only-dev", project.File, fix: "keep one of them");
        }

        return new UvSyncArguments(tokens, groups, allGroups);
    }

    private static List<string> Tokenize(string text, string file)
    {
        var tokens = new List<string>();
        var current = new System.Text.StringBuilder();
        char? quote = null;
        var inToken = false;
        foreach (var c in text)
        {
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inToken = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inToken)
                {
                    tokens.Add(current.ToString());
                    current.Clear();
                    inToken = false;
                }
            }
            else
            {
                current.Append(c);
                inToken = true;
            }
        }

        if (quote is not null)
        {
            throw new FlyteSharpException($"extraArgs '{text}' has an unbalanced {quote} quote", file, fix: "close the quote");
        }

        if (inToken)
        {
            tokens.Add(current.ToString());
        }

        return tokens;
    }

    private readonly struct TomlLineFinder(string file)
    {
        public int? DependencyGroups()
        {
            var lines = File.ReadAllLines(file);
            var i = Array.FindIndex(lines, l => l.Trim() == "[dependency-groups]");
            return i >= 0 ? i + 1 : null;
        }
    }
}
