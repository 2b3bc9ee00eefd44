using FlyteSharp.Images;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// The extra <c>sys.path</c> entries a task environment needs, relative to root_dir (= the bundle directory): the
/// import roots of the environment's uv workspace packages that live under root_dir (a member's <c>src/</c> for a
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

        var result = new List<string>();
        foreach (var layer in image.Layers.OfType<UvProjectLayer>())
        {
            foreach (var path in layer.Workspace.ImportPaths(rootDir))
            {
                if (!result.Contains(path))
                {
                    result.Add(path);
                }
            }
        }

        return result;
    }

    /// <summary>The runner arguments for <paramref name="paths"/> (<c>--path REL</c> each).</summary>
    public static IEnumerable<string> Arguments(IReadOnlyList<string> paths) => paths.SelectMany(p => new[] { "--path", p });
}
