using FlyteSharp.Projects.Uv;

namespace FlyteSharp.Images;

/// <summary>
/// Installs a uv project's dependencies into the image's venv with <c>uv sync</c> (the seed's
/// <c>with_uv_project</c>). In <see cref="UvInstallMode.DependenciesOnly"/> only <c>pyproject.toml</c>,
/// <c>uv.lock</c>, workspace members' <c>pyproject.toml</c> and path dependencies enter the tag and the
/// context; in <see cref="UvInstallMode.InstallProject"/> the whole project does.
/// Path dependencies are installed with <c>--no-editable</c>, so no <c>.pth</c> file points at a
/// folder that exists only while the image is built.
/// </summary>
public sealed record UvProjectLayer : ImageLayer
{
    internal UvProjectLayer(UvProject project, string? uvLockFile, string? extraArgs, UvInstallMode installMode, string? indexUrl, IReadOnlyList<string> extraIndexUrls)
    {
        Project = project;
        UvLockFile = uvLockFile;
        ExtraArgs = extraArgs;
        InstallMode = installMode;
        IndexUrl = indexUrl;
        ExtraIndexUrls = extraIndexUrls;
        Workspace = UvWorkspace.Load(project);
        Arguments = UvSyncArguments.Parse(extraArgs, Workspace, hasLock: uvLockFile is not null, installProject: installMode == UvInstallMode.InstallProject);
        PathDependencies = project.PathDependencies();
        WorkspaceMembers = Workspace.Members.Select(m => m.Directory).ToList();
    }

    /// <summary>The project, as read from its <c>pyproject.toml</c>.</summary>
    public UvProject Project { get; }

    /// <summary>Full path of <c>pyproject.toml</c>.</summary>
    public string PyprojectFile => Project.File;

    /// <summary>Full path of the lock file, or null when the project has none (builds are then not reproducible).</summary>
    public string? UvLockFile { get; }

    /// <summary>Extra arguments for <c>uv sync</c>, e.g. <c>--only-group etl</c>; part of the tag.</summary>
    public string? ExtraArgs { get; }

    /// <summary>Dependencies only (default) or the whole project.</summary>
    public UvInstallMode InstallMode { get; }

    /// <summary>The default package index (<c>--default-index</c>), if not PyPI.</summary>
    public string? IndexUrl { get; }

    /// <summary>Additional package indexes (<c>--index</c>).</summary>
    public IReadOnlyList<string> ExtraIndexUrls { get; }

    /// <summary>The dependency groups this layer installs.</summary>
    public IReadOnlyList<string> SelectedGroups => Arguments.SelectedGroups(Project);

    internal UvSyncArguments Arguments { get; }

    /// <summary>The root project and its workspace members.</summary>
    internal UvWorkspace Workspace { get; }

    internal IReadOnlyList<(UvSource Source, string Directory)> PathDependencies { get; }

    internal IReadOnlyList<string> WorkspaceMembers { get; }

    /// <summary>
    /// The folder holding the project, its workspace members and its local path dependencies (the common ancestor of
    /// them all): what "the project" means for a source folder when no git repository contains the project.
    /// </summary>
    internal string ProjectFolder() =>
        CommonAncestor([Project.Directory, .. PathDependencies.Select(p => File.Exists(p.Directory) ? Path.GetDirectoryName(p.Directory)! : p.Directory), .. WorkspaceMembers]);

    internal override void Apply(ImageBuildPlan plan)
    {
        var projectDir = Project.Directory;
        var roots = new List<string> { projectDir };
        roots.AddRange(PathDependencies.Select(p => File.Exists(p.Directory) ? Path.GetDirectoryName(p.Directory)! : p.Directory));
        roots.AddRange(WorkspaceMembers);
        var common = CommonAncestor(roots);
        string Rel(string full)
        {
            var r = Path.GetRelativePath(common, full).Replace('\\', '/');
            return r == "." ? "" : r;
        }

        string Join(string dir, string name) => dir.Length == 0 ? name : dir + "/" + name;

        var projectRel = Rel(projectDir);
        // In the order added; a later entry for the same path wins (the explicit pyproject.toml and uv.lock over the walk's).
        var files = new List<SelectedFile>();
        void Add(string rel, string full, bool? executable = null, Files.StatInfo? stat = null, bool isRealPath = false) =>
            files.Add(new SelectedFile(rel, full, executable ?? FileSelector.IsExecutable(full), stat, isRealPath));
        void AddTree(string dir)
        {
            var prefix = Rel(dir);
            foreach (var f in FileSelector.Select(dir, plan.Ignore))
            {
                if (prefix.Length == 0)
                {
                    files.Add(f);
                }
                else
                {
                    Add(Join(prefix, f.RelativePath), f.FullPath, f.Executable, f.Stat, f.IsRealPath);
                }
            }
        }

        if (InstallMode == UvInstallMode.InstallProject)
        {
            AddTree(projectDir);
            foreach (var member in WorkspaceMembers)
            {
                AddTree(member);
            }
        }
        else
        {
            foreach (var member in WorkspaceMembers)
            {
                Add(Join(Rel(member), "pyproject.toml"), Path.Combine(member, "pyproject.toml"));
            }
        }

        // pyproject.toml and the lock always go in, even if an ignore rule would drop them.
        Add(Join(projectRel, "pyproject.toml"), Project.File);
        if (UvLockFile is not null)
        {
            Add(Join(projectRel, "uv.lock"), UvLockFile);
        }

        foreach (var (_, dir) in PathDependencies)
        {
            if (File.Exists(dir))
            {
                Add(Rel(dir), dir);
            }
            else
            {
                AddTree(dir);
            }
        }

        var sorted = new List<SelectedFile>(files.Count);
        foreach (var f in ImageBuildPlan.SortedOrdinal(files, f => f.RelativePath))
        {
            // The sort is stable, so of two entries for one path the later-added comes last and wins.
            if (sorted.Count > 0 && sorted[^1].RelativePath == f.RelativePath)
            {
                sorted[^1] = f;
            }
            else
            {
                sorted.Add(f);
            }
        }

        plan.Hash.Begin("uv-project");
        plan.Hash.Field("install-mode", InstallMode.ToString());
        plan.Hash.Field("project", projectRel);
        plan.Hash.Field("locked", UvLockFile is null ? "no" : "yes");
        plan.Hash.Field("extra-args", Arguments.Tokens);

        // The rendered command is hashed too: a change in how FlyteSharp syncs must not reuse an image synced the old way.
        var args = Arguments.Command(UvLockFile is not null, InstallMode == UvInstallMode.DependenciesOnly, IndexUrl, ExtraIndexUrls);
        plan.Hash.Field("command", args);
        plan.Hash.Field("index-url", IndexUrl);
        plan.Hash.Field("extra-index-urls", ExtraIndexUrls);
        plan.Hash.Files("files", sorted, plan.Cache);
        plan.Hash.End();

        var layerDir = plan.LayerDirectory("uv");
        plan.AddFiles(layerDir, sorted);

        var mountTarget = $"/tmp/flytesharp/uv-{plan.LayerIndex}";
        var what = InstallMode == UvInstallMode.DependenciesOnly
            ? "dependencies only; the project's own code travels in the code bundle"
            : "install project; every code edit rebuilds this layer";
        plan.Line($"# uv project '{Project.Name}' ({what})");
        if (Workspace.HasMembers)
        {
            plan.Line($"# workspace members: {string.Join(", ", Workspace.Members.Select(m => m.Name))} ({(InstallMode == UvInstallMode.DependenciesOnly ? "their dependencies only; their code travels in the bundle and is put on sys.path by the runner" : "installed non-editable")})");
        }

        plan.Line("# --inexact: keep what earlier layers (WithPipPackages, WithRequirements) installed into the same venv; an exact sync would remove it");
        plan.Run(
            [plan.UvMount, ImageBuildPlan.UvCacheMount, $"--mount=type=bind,source={layerDir},target={mountTarget},rw"],
            $"cd {(projectRel.Length == 0 ? mountTarget : mountTarget + "/" + projectRel)} \\\n && {string.Join(' ', args.Select(ImageBuildPlan.ShellQuote))}");
    }

    private static string CommonAncestor(List<string> dirs)
    {
        var common = Path.GetFullPath(dirs[0]);
        foreach (var d in dirs.Skip(1).Select(Path.GetFullPath))
        {
            while (!IsUnder(d, common))
            {
                common = Path.GetDirectoryName(common) ?? common;
            }
        }

        return common;
    }

    private static bool IsUnder(string path, string dir) =>
        path == dir || path.StartsWith(Path.EndsInDirectorySeparator(dir) ? dir : dir + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
