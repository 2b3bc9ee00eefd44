using FlyteSharp.Projects.Dotnet;
using FlyteSharp.Projects.Uv;

namespace FlyteSharp.Images;

/// <summary>
/// Checks an image definition for the seed's anti-patterns: task code copied into the image (its tag then
/// changes on every edit), <see cref="UvInstallMode.InstallProject"/> for local code, no lock file
/// (unreproducible builds), and group flags naming groups that do not exist.
/// </summary>
public static class ImageDiagnostics
{
    /// <summary>Every finding about <paramref name="image"/>'s definition, in layer order (empty when there is none).</summary>
    /// <param name="image">The image definition.</param>
    /// <param name="rootDir">The code bundle's root; without it, code copied into the image cannot be detected.</param>
    public static IReadOnlyList<ImageDiagnostic> Check(Image image, string? rootDir)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new List<ImageDiagnostic>();
        var root = rootDir is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDir));
        foreach (var layer in image.Layers)
        {
            switch (layer)
            {
                case SourceFolderLayer folder when root is not null && Overlaps(folder.Source, root):
                    result.Add(new(DiagnosticSeverity.Warning,
                        $"WithSourceFolder copies '{folder.Source}', which is code under root_dir ({root}): the image tag changes on every edit of it, so every iteration rebuilds and pushes the image",
                        folder.Source, null,
                        WorkspacePackageOf(image, folder.Source) is { } package
                            ? $"remove WithSourceFolder for it: it is workspace package '{package.Project.Name}', which the code bundle ships; FlyteSharp puts its import root on sys.path at run time (keep root_dir at the workspace root)"
                            : "remove WithSourceFolder for it: the code bundle already ships everything under root_dir (WithCodeBundle() bakes it in for full builds)"));
                    break;
                case SourceFileLayer file when root is not null && Overlaps(file.Source, root) && file.Source.EndsWith(".py", StringComparison.Ordinal):
                    result.Add(new(DiagnosticSeverity.Warning,
                        $"WithSourceFile copies '{file.Source}', which is code under root_dir ({root}): the image tag changes on every edit of it",
                        file.Source, null, "remove it from the image: the code bundle ships it"));
                    break;
                case UvProjectLayer uv:
                    CheckUv(uv, result);
                    if (root is not null)
                    {
                        CheckWorkspaceRoot(uv, root, result);
                    }

                    break;
                case DotnetProjectLayer dotnet:
                    CheckDotnet(dotnet, result);
                    break;
            }
        }

        if (!image.Layers.OfType<CodeBundleLayer>().Any())
        {
            result.Add(new(DiagnosticSeverity.Warning,
                "the image has no WithCodeBundle(): a full-build deploy (CopyStyle.None) would produce an image without your code",
                null, null, "end the image definition with .WithCodeBundle() (a no-op in fast deploy)"));
        }

        return result;
    }

    /// <summary>Warns when root_dir leaves workspace packages out of the bundle (they then cannot be imported at run time).</summary>
    private static void CheckWorkspaceRoot(UvProjectLayer uv, string root, List<ImageDiagnostic> result)
    {
        var workspace = uv.Workspace;
        if (!workspace.HasMembers)
        {
            return;
        }

        var outside = workspace.Packages.Where(p => !Under(Path.TrimEndingDirectorySeparator(p.ImportRoot), root)).Select(p => p.Project.Name).ToList();
        if (outside.Count > 0)
        {
            result.Add(new(DiagnosticSeverity.Warning,
                $"root_dir ({root}) leaves workspace package(s) {string.Join(", ", outside)} out of the code bundle: their modules cannot be imported at run time",
                workspace.Root.File, null,
                $"set root_dir to the workspace root {workspace.Root.Directory}: the bundle then carries every package, and FlyteSharp puts each one's import root (src/ or its folder) on sys.path"));
        }
    }

    private static UvWorkspaceMember? WorkspacePackageOf(Image image, string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return image.Layers.OfType<UvProjectLayer>().SelectMany(l => l.Workspace.Members)
            .FirstOrDefault(m => Under(full, Path.TrimEndingDirectorySeparator(m.Directory)));
    }

    private static bool Under(string a, string b) => a == b || a.StartsWith(b + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// Refuses images whose uv.lock no longer matches the pyproject.toml files of its workspace (see
    /// <see cref="UvLockFreshness"/>): builds, container runs and deploys call this before any build starts,
    /// so a dependency added without re-locking fails here instead of deep inside <c>uv sync --locked</c>.
    /// </summary>
    /// <exception cref="FlyteSharpException">A lock is out of date.</exception>
    internal static void ThrowIfLockStale(IEnumerable<Image> images)
    {
        foreach (var uv in images.SelectMany(i => i.Layers).OfType<UvProjectLayer>().DistinctBy(l => (l.PyprojectFile, l.UvLockFile)))
        {
            if (StaleLock(uv) is { } stale)
            {
                throw new FlyteSharpException(stale.Reason, stale.File, stale.Line, stale.Fix);
            }
        }
    }

    /// <summary>The stale-lock finding for one layer (all drifting packages in one message), or null when the lock is current or absent.</summary>
    private static ImageDiagnostic? StaleLock(UvProjectLayer uv)
    {
        if (uv.UvLockFile is null)
        {
            return null;
        }

        // Read afresh: the files may have changed since the image was defined.
        var workspace = UvWorkspace.Load(UvProject.Load(uv.PyprojectFile));
        var drifts = UvLockFreshness.Check(workspace, UvLock.Load(uv.UvLockFile));
        if (drifts.Count == 0)
        {
            return null;
        }

        var first = drifts[0];
        return new ImageDiagnostic(DiagnosticSeverity.Error,
            string.Join("; ", drifts.Select(d => d.Reason)),
            first.Package.Project.File, LineOfDependencies(first.Package.Project.File),
            $"run `uv lock` in {workspace.Root.Directory} and commit uv.lock (FlyteSharp never writes lock files)");
    }

    private static int? LineOfDependencies(string file)
    {
        var lines = File.ReadAllLines(file);
        var i = Array.FindIndex(lines, l => l.TrimStart().StartsWith("dependencies", StringComparison.Ordinal));
        return i >= 0 ? i + 1 : null;
    }

    private static void CheckUv(UvProjectLayer uv, List<ImageDiagnostic> result)
    {
        if (uv.InstallMode == UvInstallMode.InstallProject)
        {
            result.Add(new(DiagnosticSeverity.Warning,
                $"InstallProject copies and hashes the whole project '{uv.Project.Name}': every code edit rebuilds the image",
                uv.PyprojectFile, null,
                "use the default DependenciesOnly with WithCodeBundle(); keep InstallProject only if you need entry points or compiled extension modules"));
        }

        if (uv.UvLockFile is null)
        {
            result.Add(new(DiagnosticSeverity.Warning,
                $"no uv.lock next to {uv.PyprojectFile}: every image build resolves dependency versions afresh, so builds are not reproducible",
                uv.PyprojectFile, null,
                $"run `uv lock` in {uv.Project.Directory} and commit uv.lock (FlyteSharp never writes or invents lock files)"));
        }
        else
        {
            var lockFile = UvLock.Load(uv.UvLockFile);
            var name = UvProject.NormalizeName(uv.Project.Name);
            if (!lockFile.Packages.Any(p => UvProject.NormalizeName(p.Name) == name))
            {
                result.Add(new(DiagnosticSeverity.Warning,
                    $"uv.lock does not list the project '{uv.Project.Name}': it belongs to another project or is stale",
                    uv.UvLockFile, null, $"run `uv lock` in {uv.Project.Directory}"));
            }
        }

        // Group flags and the workspace were validated when the layer was created; files edited since then are re-checked here.
        try
        {
            UvSyncArguments.Parse(uv.ExtraArgs, UvWorkspace.Load(UvProject.Load(uv.PyprojectFile)), uv.UvLockFile is not null, uv.InstallMode == UvInstallMode.InstallProject);
            if (StaleLock(uv) is { } stale)
            {
                result.Add(stale);
            }
        }
        catch (FlyteSharpException ex)
        {
            result.Add(new(DiagnosticSeverity.Error, ex.Reason, ex.File, ex.Line, ex.Fix ?? "fix extraArgs"));
        }
    }

    private static void CheckDotnet(DotnetProjectLayer dotnet, List<ImageDiagnostic> result)
    {
        DotnetProjectGraph graph;
        try
        {
            graph = DotnetProjectGraph.Load(dotnet.ProjectFile); // read afresh: the files may have changed since the image was defined
            DotnetProjectLayer.RuntimeVersionOf(graph.Root);
        }
        catch (FlyteSharpException ex)
        {
            result.Add(new(DiagnosticSeverity.Error, ex.Reason, ex.File, ex.Line, ex.Fix ?? "fix the project file"));
            return;
        }

        var project = graph.Root;
        if (dotnet.InstallMode == DotnetInstallMode.InstallProject)
        {
            result.Add(new(DiagnosticSeverity.Warning,
                $"InstallProject bakes the assemblies of '{project.Name}' into the image: every code edit rebuilds it",
                project.File, null,
                "use the default DotnetInstallMode.DependenciesOnly (your assemblies then travel in the code bundle); full-build deploys (CopyStyle.None) bake them in anyway"));
        }

        if (project.LockFile is null)
        {
            result.Add(new(DiagnosticSeverity.Warning,
                $"no packages.lock.json for {project.File}: every image build resolves NuGet versions afresh (floating versions, new transitive packages), so the package layer is not reproducible and a changed resolution does not move the tag",
                project.File, null,
                project.RestoresWithLockFile
                    ? $"run `dotnet restore` in {project.Directory} (RestorePackagesWithLockFile is already set) and commit packages.lock.json"
                    : $"set <RestorePackagesWithLockFile>true</RestorePackagesWithLockFile> in the project (or Directory.Build.props), run `dotnet restore` in {project.Directory} and commit packages.lock.json (FlyteSharp never writes lock files)"));
        }
    }

    private static bool Overlaps(string path, string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        bool Under(string a, string b) => a == b || a.StartsWith(b + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return Under(full, root) || Under(root, full);
    }
}
