using FlyteSharp.Projects.Uv;

namespace FlyteSharp.Images;

/// <summary>How serious a diagnostic is.</summary>
internal enum DiagnosticSeverity
{
    Warning,
    Error,
}

/// <summary>One finding about an image definition: what is wrong, why it matters and what to do.</summary>
internal sealed record ImageDiagnostic(DiagnosticSeverity Severity, string Reason, string? File, int? Line, string Fix);

/// <summary>
/// Checks an image definition for the seed's anti-patterns: task code copied into the image (its tag then
/// changes on every edit), <see cref="UvInstallMode.InstallProject"/> for local code, no lock file
/// (unreproducible builds), and group flags naming groups that do not exist.
/// </summary>
internal static class ImageDiagnostics
{
    public static IReadOnlyList<ImageDiagnostic> Check(Image image, string? rootDir)
    {
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
                        "remove WithSourceFolder for it: the code bundle already ships everything under root_dir (WithCodeBundle() bakes it in for full builds)"));
                    break;
                case SourceFileLayer file when root is not null && Overlaps(file.Source, root) && file.Source.EndsWith(".py", StringComparison.Ordinal):
                    result.Add(new(DiagnosticSeverity.Warning,
                        $"WithSourceFile copies '{file.Source}', which is code under root_dir ({root}): the image tag changes on every edit of it",
                        file.Source, null, "remove it from the image: the code bundle ships it"));
                    break;
                case UvProjectLayer uv:
                    CheckUv(uv, result);
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

        // Group flags were validated when the layer was created; a project edited since then is re-checked here.
        try
        {
            UvSyncArguments.Parse(uv.ExtraArgs, UvProject.Load(uv.PyprojectFile));
        }
        catch (FlyteSharpException ex)
        {
            result.Add(new(DiagnosticSeverity.Error, ex.Reason, ex.File, ex.Line, ex.Fix ?? "fix extraArgs"));
        }
    }

    private static bool Overlaps(string path, string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        bool Under(string a, string b) => a == b || a.StartsWith(b + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return Under(full, root) || Under(root, full);
    }
}
