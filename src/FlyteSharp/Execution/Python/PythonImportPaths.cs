using FlyteSharp.Images;
using FlyteSharp.Projects.Uv;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// The extra <c>sys.path</c> entries a task environment needs, relative to root_dir (= the bundle directory): the
/// import roots of the uv workspace packages that live under root_dir — those of the environment's
/// <c>WithUvProject</c> workspaces and, when root_dir is itself a workspace root, of that workspace (a member's <c>src/</c> for a
/// src layout, its directory for a flat one). The runner inserts them after the bundle directory (<c>--path</c>), so
/// with root_dir at the workspace root every member imports from the bundle — locally, in containers and in Pods —
/// without installing the members into the image.
/// </summary>
internal static class PythonImportPaths
{
    /// <summary>The entries for <paramref name="image"/>'s uv project layers, in workspace order, without duplicates.</summary>
    public static IReadOnlyList<string> For(Image image, string? rootDir)
    {
        if (rootDir is null)
        {
            return [];
        }

        var workspaces = image.Layers.OfType<UvProjectLayer>().Select(l => l.Workspace).ToList();
        if (RootWorkspace(rootDir) is { } atRoot)
        {
            workspaces.Add(atRoot);
        }

        var result = new List<string>();
        foreach (var path in workspaces.SelectMany(w => w.ImportPaths(rootDir)))
        {
            if (!result.Contains(path))
            {
                result.Add(path);
            }
        }

        return result;
    }

    /// <summary>
    /// The uv workspace whose root is root_dir itself (its pyproject.toml has a <c>[tool.uv.workspace]</c> table), or
    /// null. The bundle then carries the whole workspace, so its packages are importable whatever the image is built
    /// from (an image without a uv layer, a full build, a Pod).
    /// </summary>
    private static UvWorkspace? RootWorkspace(string rootDir)
    {
        var pyproject = Path.Combine(rootDir, "pyproject.toml");
        if (!File.Exists(pyproject))
        {
            return null;
        }

        var project = UvProject.Load(pyproject);
        return project.WorkspaceMembers.Count == 0 ? null : UvWorkspace.Load(project);
    }

    /// <summary>The runner arguments for <paramref name="paths"/> (<c>--path REL</c> each).</summary>
    public static IEnumerable<string> Arguments(IReadOnlyList<string> paths) => paths.SelectMany(p => new[] { "--path", p });
}
