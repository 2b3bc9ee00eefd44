namespace FlyteSharp.Projects.Uv;

/// <summary>
/// The <c>extraArgs</c> of a uv project layer, split into tokens and checked against the workspace before anything
/// is rendered: every group named by <c>--only-group</c>, <c>--group</c> or <c>--no-group</c> must exist in the
/// packages being synced, <c>--package</c> must name a workspace package, and no combination uv refuses
/// (<c>--locked</c> with <c>--frozen</c>, a group both included and excluded, …) gets through.
/// <see cref="Command"/> renders the whole <c>uv sync</c> line: FlyteSharp's own flags once each, the user's after.
/// </summary>
internal sealed class UvSyncArguments
{
    private static readonly string[] GroupFlags = ["--only-group", "--group", "--no-group"];

    /// <summary>Pairs of flags uv refuses together, with the reason shown to the user.</summary>
    private static readonly (string A, string B, string Why)[] Conflicts =
    [
        ("--locked", "--frozen", "--locked checks that uv.lock is up to date, --frozen uses it without checking; uv accepts only one"),
        ("--all-groups", "--only-group", "--all-groups already selects every group"),
        ("--all-groups", "--only-dev", "--only-dev selects only the dev group"),
        ("--only-dev", "--only-group", "--only-dev and --only-group each select the only groups to install"),
        ("--no-dev", "--only-dev", "the dev group cannot be both excluded and the only one"),
        ("--exact", "--inexact", "FlyteSharp syncs with --inexact so packages earlier layers installed survive; uv accepts only one"),
        ("--package", "--all-packages", "--all-packages already syncs every workspace package"),
        ("--editable", "--no-editable", "uv accepts only one"),
        ("--no-install-project", "--only-install-project", "uv accepts only one"),
    ];

    /// <summary>Flags FlyteSharp always decides itself, with why a user's value cannot be honoured.</summary>
    private static readonly (string Flag, string Why)[] Reserved =
    [
        ("--exact", "FlyteSharp syncs with --inexact: an exact sync would remove what earlier WithPipPackages/WithRequirements layers installed into the same venv"),
        ("--editable", "the project is mounted only while the image builds, so an editable install would point at a folder the image does not have"),
    ];

    private UvSyncArguments(IReadOnlyList<string> tokens, IReadOnlyList<(string Flag, string Group)> groups, bool allGroups, UvWorkspace workspace, string? package)
    {
        Tokens = tokens;
        Groups = groups;
        AllGroups = allGroups;
        Workspace = workspace;
        Package = package;
    }

    /// <summary>The arguments as separate tokens, in order.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Every group flag with its normalized group name.</summary>
    public IReadOnlyList<(string Flag, string Group)> Groups { get; }

    /// <summary>True when <c>--all-groups</c> is given.</summary>
    public bool AllGroups { get; }

    /// <summary>The workspace the arguments were checked against.</summary>
    public UvWorkspace Workspace { get; }

    /// <summary>The normalized package named by <c>--package</c>, or null.</summary>
    public string? Package { get; }

    /// <summary>True when <c>--frozen</c> is given (it then replaces the <c>--locked</c> FlyteSharp would add).</summary>
    public bool Frozen => Tokens.Contains("--frozen");

    /// <summary>The groups that will be installed, given the project's groups (uv installs <c>dev</c> by default).</summary>
    public IReadOnlyList<string> SelectedGroups(UvProject project)
    {
        var only = Groups.Where(g => g.Flag == "--only-group").Select(g => g.Group).ToList();
        var known = KnownGroups();
        var selected = AllGroups ? known.ToHashSet()
            : only.Count > 0 ? only.ToHashSet()
            : new HashSet<string>(known.Contains("dev") && !Tokens.Contains("--no-dev") ? ["dev"] : []);
        selected.UnionWith(Groups.Where(g => g.Flag == "--group").Select(g => g.Group));
        selected.ExceptWith(Groups.Where(g => g.Flag == "--no-group").Select(g => g.Group));
        return selected.OrderBy(x => x, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The whole <c>uv sync</c> argument list: <c>--locked</c> (or the user's <c>--frozen</c>) when there is a lock,
    /// <c>--all-packages</c> for a workspace with members unless <c>--package</c> picks one, <c>--no-install-workspace</c>
    /// (members) or <c>--no-install-project</c> for dependencies only, <c>--no-editable</c>, <c>--inexact</c>, the
    /// indexes, then the user's arguments without any flag FlyteSharp already added.
    /// </summary>
    public IReadOnlyList<string> Command(bool locked, bool dependenciesOnly, string? indexUrl, IReadOnlyList<string> extraIndexUrls)
    {
        var args = new List<string> { "uv", "sync" };
        if (locked && !Frozen)
        {
            args.Add("--locked");
        }

        if (Workspace.HasMembers && Package is null && !Tokens.Contains("--all-packages"))
        {
            args.Add("--all-packages");
        }

        if (dependenciesOnly)
        {
            args.Add(Workspace.HasMembers ? "--no-install-workspace" : "--no-install-project");
        }

        args.Add("--no-editable");
        args.Add("--inexact");
        if (indexUrl is not null)
        {
            args.Add("--default-index");
            args.Add(indexUrl);
        }

        foreach (var index in extraIndexUrls)
        {
            args.Add("--index");
            args.Add(index);
        }

        var ours = args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        foreach (var token in Tokens)
        {
            // A flag FlyteSharp already passes is rendered once; uv refuses some flags given twice.
            if (!(ours.Contains(token) && IsSwitch(token)))
            {
                args.Add(token);
            }
        }

        return args;
    }

    /// <summary>Splits and validates <paramref name="extraArgs"/> against a single project (its workspace members included).</summary>
    public static UvSyncArguments Parse(string? extraArgs, UvProject project) => Parse(extraArgs, UvWorkspace.Load(project));

    /// <summary>Splits and validates <paramref name="extraArgs"/> against <paramref name="workspace"/>.</summary>
    /// <param name="extraArgs">The user's extra arguments.</param>
    /// <param name="workspace">The workspace being synced.</param>
    /// <param name="hasLock">Whether a uv.lock exists (<c>--locked</c>/<c>--frozen</c> need one).</param>
    /// <param name="installProject">Whether the layer installs the project (then <c>--no-install-project</c> contradicts it).</param>
    /// <exception cref="FlyteSharpException">Unknown group or package, missing value, conflicting flags or an unbalanced quote.</exception>
    public static UvSyncArguments Parse(string? extraArgs, UvWorkspace workspace, bool hasLock = true, bool installProject = false)
    {
        var project = workspace.Root;
        var tokens = Tokenize(extraArgs ?? "", project.File);
        var rawGroups = new List<(string Flag, string Value)>();
        var allGroups = false;
        string? package = null;
        FlyteSharpException Error(string reason, string fix) => new($"extraArgs '{extraArgs}': {reason}", project.File, fix: fix);

        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token == "--all-groups")
            {
                allGroups = true;
                continue;
            }

            if (token == "--package" || token.StartsWith("--package=", StringComparison.Ordinal))
            {
                var value = token.Length > "--package".Length ? token["--package=".Length..]
                    : i + 1 < tokens.Count && !tokens[i + 1].StartsWith('-') ? tokens[++i]
                    : throw Error("--package needs a package name", $"write e.g. \"--package {workspace.Members.FirstOrDefault()?.Name ?? project.Name}\"");
                var found = workspace.Find(value)
                    ?? throw Error($"--package names '{value}', which is not a package of the workspace (packages: {string.Join(", ", workspace.PackageNames)})",
                        $"use one of: {string.Join(", ", workspace.PackageNames)}, or add its directory to [tool.uv.workspace] members");
                if (package is not null && package != found.Name)
                {
                    throw Error("--package is given twice", "sync one package per layer, or drop --package to sync every workspace package");
                }

                package = found.Name;
                continue;
            }

            var flag = GroupFlags.FirstOrDefault(f => token == f || token.StartsWith(f + "=", StringComparison.Ordinal));
            if (flag is null)
            {
                continue;
            }

            string groupValue;
            if (token.Length > flag.Length)
            {
                groupValue = token[(flag.Length + 1)..];
            }
            else if (i + 1 < tokens.Count && !tokens[i + 1].StartsWith('-'))
            {
                groupValue = tokens[++i];
            }
            else
            {
                throw Error($"{flag} needs a group name", $"write e.g. \"{flag} {project.DependencyGroups.Keys.FirstOrDefault() ?? "dev"}\"");
            }

            rawGroups.Add((flag, groupValue));
        }

        var result = new UvSyncArguments(tokens, [], allGroups, workspace, package);
        var known = result.KnownGroups();
        var groups = new List<(string, string)>();
        foreach (var (flag, value) in rawGroups)
        {
            var group = UvProject.NormalizeName(value);
            if (!known.Contains(group))
            {
                var names = known.Count == 0 ? "none" : string.Join(", ", known);
                var where = package is not null ? $"package '{package}'" : workspace.HasMembers ? "no package of the workspace" : "pyproject.toml";
                var owner = package is not null ? workspace.Find(package)!.Project : project;
                throw new FlyteSharpException(
                    $"extraArgs '{extraArgs}' names dependency group '{value}', which {where} does not define (groups: {names})",
                    owner.File, owner.DependencyGroupsLine,
                    $"add '{value} = [...]' under [dependency-groups], or use one of: {names}");
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

        bool Has(string f) => f == "--package" ? package is not null : f == "--only-group" ? groups.Any(g => g.Item1 == f) : tokens.Any(t => t == f || t.StartsWith(f + "=", StringComparison.Ordinal));
        foreach (var (a, b, why) in Conflicts)
        {
            if (Has(a) && Has(b))
            {
                throw new FlyteSharpException($"extraArgs '{extraArgs}' combines {a} with {b}, which uv refuses: {why}", project.File,
                    fix: $"keep {a} or {b}, not both");
            }
        }

        foreach (var (flag, why) in Reserved)
        {
            if (Has(flag))
            {
                throw new FlyteSharpException($"extraArgs '{extraArgs}' passes {flag}, which FlyteSharp cannot honour: {why}", project.File,
                    fix: $"remove {flag} from extraArgs");
            }
        }

        if (!hasLock && (Has("--locked") || Has("--frozen")))
        {
            throw new FlyteSharpException($"extraArgs '{extraArgs}' asks for {(Has("--locked") ? "--locked" : "--frozen")}, but there is no uv.lock next to {project.File}", project.File,
                fix: $"run `uv lock` in {project.Directory} and commit uv.lock, or remove the flag");
        }

        if (installProject && (Has("--no-install-project") || Has("--no-install-workspace")))
        {
            throw new FlyteSharpException($"extraArgs '{extraArgs}' skips the project, but the layer's installMode is InstallProject", project.File,
                fix: "use the default UvInstallMode.DependenciesOnly (the code then travels in the bundle), or remove the flag");
        }

        return new UvSyncArguments(tokens, groups, allGroups, workspace, package);
    }

    /// <summary>The groups defined by the packages being synced: the <c>--package</c> one, else every package when the workspace has members, else the root.</summary>
    private List<string> KnownGroups()
    {
        var packages = Package is not null ? [Workspace.Find(Package)!] : Workspace.Packages;
        return packages.SelectMany(p => p.Project.DependencyGroups.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    private static bool IsSwitch(string token) => token is "--locked" or "--frozen" or "--all-packages" or "--no-install-project" or "--no-install-workspace" or "--no-editable" or "--inexact";

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
}
