namespace FlyteSharp.Projects.Dotnet;

/// <summary>
/// A project with its <c>ProjectReference</c>s (recursively) and every file its restore reads: the project files, the
/// Directory.Build.props / Directory.Packages.props / Directory.Build.targets and what they import, NuGet.config and
/// global.json on the way up from each project (up to the git repository holding the root project, or the file system
/// root when there is none), and each project's packages.lock.json.
/// </summary>
internal sealed class DotnetProjectGraph
{
    /// <summary>Files that influence restore when found above a project, whether or not the nearest one imports them.</summary>
    private static readonly string[] WalkUpNames = ["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json"];

    /// <summary>NuGet reads nuget.config in any letter case; the listing gives each file once, by its real name, on every file system.</summary>
    private static readonly EnumerationOptions NuGetConfigSearch = new() { MatchCasing = MatchCasing.CaseInsensitive, RecurseSubdirectories = false, IgnoreInaccessible = true };

    private DotnetProjectGraph(DotnetProject root, IReadOnlyList<DotnetProject> projects, string? repository, IReadOnlyList<string> restoreInputs)
    {
        Root = root;
        Projects = projects;
        Repository = repository;
        RestoreInputs = restoreInputs;
    }

    /// <summary>The project given to <c>WithDotnetProject</c>.</summary>
    public DotnetProject Root { get; }

    /// <summary>The root first, then every referenced project once (depth first, declaration order).</summary>
    public IReadOnlyList<DotnetProject> Projects { get; }

    /// <summary>The git repository holding the root project, or null.</summary>
    public string? Repository { get; }

    /// <summary>Full paths of every restore input, sorted ordinally.</summary>
    public IReadOnlyList<string> RestoreInputs { get; }

    private static bool IsFlyteSharpProject(string path) =>
        Path.GetFileName(path) is "FlyteSharp.csproj" or "FlyteSharp.Worker.csproj";

    /// <summary>Reads <paramref name="projectFile"/> and everything it references.</summary>
    /// <exception cref="FlyteSharpException">A project is missing or malformed, a reference is missing or circular, or a framework is ambiguous.</exception>
    public static DotnetProjectGraph Load(string projectFile)
    {
        var root = DotnetProject.Load(projectFile);
        var projects = new List<DotnetProject>();
        var byPath = new Dictionary<string, DotnetProject>(StringComparer.Ordinal);
        var stack = new List<string>();
        void Visit(DotnetProject project)
        {
            stack.Add(project.File);
            byPath[project.File] = project;
            projects.Add(project);
            foreach (var (path, file, line) in project.ProjectReferences)
            {
                if (stack.Contains(path, StringComparer.Ordinal))
                {
                    throw new FlyteSharpException($"circular project reference: {string.Join(" -> ", stack.Append(path).Select(Path.GetFileName))}", file, line,
                        "remove one of the references (MSBuild refuses the cycle too)");
                }

                // FlyteSharp and its worker are not the user's restore: the worker in every .NET image brings them and their
                // packages (its bytes are in the tag), so a ProjectReference to them (a project in FlyteSharp's own
                // repository) is not followed; MSBuild's conditions that keep the worker from referencing itself are not
                // evaluated here, so following it would see a cycle that MSBuild does not.
                if (byPath.ContainsKey(path) || IsFlyteSharpProject(path))
                {
                    continue;
                }

                if (!File.Exists(path))
                {
                    throw new FlyteSharpException($"referenced project not found: {path}", file, line,
                        "fix the ProjectReference's Include path (relative to the project's folder), or remove the reference");
                }

                Visit(DotnetProject.Load(path));
            }

            stack.RemoveAt(stack.Count - 1);
        }

        Visit(root);
        var repository = FindRepositoryRoot(root.Directory);
        var inputs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var project in projects)
        {
            inputs.UnionWith(project.MsBuildFiles);
            if (project.LockFile is not null)
            {
                inputs.Add(project.LockFile);
            }

            for (var dir = new DirectoryInfo(project.Directory); dir is not null; dir = dir.Parent)
            {
                foreach (var name in WalkUpNames)
                {
                    var candidate = Path.Combine(dir.FullName, name);
                    if (File.Exists(candidate))
                    {
                        inputs.Add(candidate);
                    }
                }

                inputs.UnionWith(Directory.EnumerateFiles(dir.FullName, "nuget.config", NuGetConfigSearch));

                if (repository is not null && dir.FullName == repository)
                {
                    break;
                }
            }
        }

        return new DotnetProjectGraph(root, projects, repository, [.. inputs]);
    }

    /// <summary>The closest folder at or above <paramref name="start"/> holding <c>.git</c>, or null.</summary>
    internal static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
