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

        return RealExecutable(FindOnPath(configured, source, config, environment));
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> RealExecutables = new(StringComparer.Ordinal);

    /// <summary>
    /// The interpreter behind a name on PATH: version-manager shims (pyenv, asdf) are shell scripts that cost tens of
    /// milliseconds per start, so the real binary (<c>sys.executable</c>) is asked once and used from then on.
    /// </summary>
    private static string RealExecutable(string found) => RealExecutables.GetOrAdd(found, static path =>
    {
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("import sys; print(sys.executable)");
            using var process = System.Diagnostics.Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && output.Length > 0 && File.Exists(output) ? output : path;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return path;
        }
    });

    private static string FindOnPath(string configured, string source, FlyteConfig config, IDictionary<string, string?>? environment)
    {
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
