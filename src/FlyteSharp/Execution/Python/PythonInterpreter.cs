using FlyteSharp.Configuration;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// Finds the interpreter for local Python tasks: the project's <c>.venv</c> (searched from root_dir up to the
/// directory holding <c>pyproject.toml</c>), else <see cref="FlyteConfig.Python"/> (a path or a name on PATH).
/// </summary>
internal static class PythonInterpreter
{
    public static string Resolve(FlyteConfig config, string? rootDir, IDictionary<string, string?>? environment = null)
    {
        if (rootDir is not null && FindVenv(rootDir) is { } venv)
        {
            return venv;
        }

        var configured = config.Python;
        var source = config.SourceFile is null ? "the default" : $"runs.python in {config.SourceFile}";
        if (configured.Contains('/') || Path.IsPathRooted(configured))
        {
            var full = Path.GetFullPath(configured);
            return File.Exists(full)
                ? full
                : throw new FlyteSharpException($"Python interpreter '{full}' ({source}) does not exist", config.SourceFile,
                    fix: "install Python 3, create the project's .venv, or set [runs] python / FLYTESHARP_PYTHON to an existing interpreter");
        }

        var path = environment is not null && environment.TryGetValue("PATH", out var p) ? p : Environment.GetEnvironmentVariable("PATH");
        foreach (var dir in (path ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, configured);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FlyteSharpException($"Python interpreter '{configured}' ({source}) was not found on PATH", config.SourceFile,
            fix: "install Python 3 (e.g. apt-get install python3), create the project's .venv, or set [runs] python / FLYTESHARP_PYTHON to an interpreter's path");
    }

    private static string? FindVenv(string rootDir)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(rootDir)); dir is not null; dir = dir.Parent)
        {
            var python = Path.Combine(dir.FullName, ".venv", "bin", "python");
            if (File.Exists(python))
            {
                return python;
            }

            // The uv project's root is where the search stops: a .venv above it belongs to something else.
            if (File.Exists(Path.Combine(dir.FullName, "pyproject.toml")) || Directory.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return null;
            }
        }

        return null;
    }
}
