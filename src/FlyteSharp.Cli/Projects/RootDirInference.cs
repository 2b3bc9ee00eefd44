using FlyteSharp.Images;
using FlyteSharp.Projects.Uv;
using FlyteSharp.Tasks;

namespace FlyteSharp.Cli.Projects;

/// <summary>
/// root_dir for a CLI command when neither <c>--root-dir</c> nor the config sets it (a program's own
/// <c>Flyte.InitFromConfig(rootDir: …)</c> does not run under the CLI): read from the environments' uv projects. A project
/// that is a member of a uv workspace stands for the workspace's root; a project folder with a <c>src/</c> holding Python
/// code (src layout) gives <c>src/</c>, otherwise the folder itself (flat layout).
/// </summary>
internal static class RootDirInference
{
    /// <summary>The inferred root_dir and why, or null when no environment has a uv project.</summary>
    /// <exception cref="FlyteSharpException">The uv projects point at different directories.</exception>
    public static (string RootDir, string Reason)? Infer(IEnumerable<TaskEnvironment> environments)
    {
        var candidates = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var environment in environments)
        {
            foreach (var layer in environment.Image.Layers.OfType<UvProjectLayer>())
            {
                var projectDirectory = Path.GetDirectoryName(Path.GetFullPath(layer.PyprojectFile))!;
                var root = WorkspaceRoot(projectDirectory) ?? projectDirectory;
                var candidate = HasPythonCode(Path.Combine(root, "src")) ? Path.Combine(root, "src") : root;
                if (!candidates.TryGetValue(candidate, out var reasons))
                {
                    candidates[candidate] = reasons = [];
                }

                reasons.Add($"environment '{environment.Name}' ({Path.GetRelativePath(Directory.GetCurrentDirectory(), layer.PyprojectFile)})");
            }
        }

        return candidates.Count switch
        {
            0 => null,
            1 => (candidates.Keys.Single(), string.Join(", ", candidates.Values.Single().Distinct())),
            _ => throw new FlyteSharpException(
                "root_dir is not set and the environments' uv projects point at different directories:\n" +
                string.Join("\n", candidates.Select(c => $"  {c.Key}  (from {string.Join(", ", c.Value.Distinct())})")),
                fix: "choose one with --root-dir DIR, or set root_dir in flytesharp.toml next to the project"),
        };
    }

    /// <summary>The nearest folder above <paramref name="projectDirectory"/> whose pyproject.toml declares it a uv workspace member.</summary>
    private static string? WorkspaceRoot(string projectDirectory)
    {
        for (var dir = Directory.GetParent(projectDirectory); dir is not null; dir = dir.Parent)
        {
            var pyproject = Path.Combine(dir.FullName, "pyproject.toml");
            if (File.Exists(pyproject))
            {
                var workspace = UvProject.Load(pyproject);
                if (workspace.WorkspaceMemberDirectories().Any(m => string.Equals(Path.GetFullPath(m, dir.FullName).TrimEnd('/'), projectDirectory, StringComparison.Ordinal)))
                {
                    return dir.FullName;
                }
            }

            if (Directory.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>True when <paramref name="directory"/> holds a Python package or module (the src layout).</summary>
    private static bool HasPythonCode(string directory) =>
        Directory.Exists(directory)
        && (Directory.EnumerateFiles(directory, "*.py").Any()
            || Directory.EnumerateDirectories(directory).Any(d => File.Exists(Path.Combine(d, "__init__.py")) || Directory.EnumerateFiles(d, "*.py").Any()));
}
