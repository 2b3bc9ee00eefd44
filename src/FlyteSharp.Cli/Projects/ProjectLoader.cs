using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace FlyteSharp.Cli.Projects;

/// <summary>
/// Builds a C# project (<c>dotnet build</c>, quiet) and loads its output assembly so commands can find the
/// task environments and tasks it defines. A project is loaded once per process: later loads of an
/// unchanged build output return the same <see cref="LoadedProject"/> (static state is not duplicated).
/// </summary>
internal static class ProjectLoader
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<(string Path, DateTime Written), LoadedProject> Loaded = new();

    /// <summary>The <c>.csproj</c> for <paramref name="path"/>: the file itself, or the only one in the folder.</summary>
    /// <exception cref="FlyteSharpException">No such file/folder, or a folder with zero or several projects.</exception>
    public static string FindProjectFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            return full.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase) ? full
                : throw new FlyteSharpException("not a C# project file", full, fix: "pass a .csproj or the folder that holds it");
        }

        if (!Directory.Exists(full))
        {
            throw new FlyteSharpException("project not found", full, fix: "pass a .csproj or the folder that holds it");
        }

        var projects = Directory.GetFiles(full, "*.csproj");
        return projects.Length switch
        {
            1 => projects[0],
            0 => throw new FlyteSharpException("no .csproj in this folder", full, fix: "pass the folder that holds your project (e.g. examples/workspace-monorepo/dotnet)"),
            _ => throw new FlyteSharpException($"several projects in this folder: {string.Join(", ", projects.Select(Path.GetFileName).Order())}", full, fix: "pass the .csproj you mean"),
        };
    }

    /// <summary>Builds (unless <paramref name="build"/> is false) and loads the project at <paramref name="path"/>.</summary>
    /// <exception cref="FlyteSharpException">The build fails, the output is missing, or a static initializer throws.</exception>
    public static async Task<LoadedProject> LoadAsync(string path, bool build = true, CancellationToken cancellationToken = default)
    {
        var projectFile = FindProjectFile(path);
        var gate = Locks.GetOrAdd(projectFile, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (build)
            {
                var (code, output) = await DotnetAsync(["build", projectFile, "--nologo", "-v", "q", "-clp:NoSummary", "-nodeReuse:false"], cancellationToken);
                if (code != 0)
                {
                    var errors = output.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Distinct().Take(20).ToList();
                    throw new FlyteSharpException("dotnet build failed:\n  " + string.Join("\n  ", errors.Count > 0 ? errors : [output.Trim()]), projectFile,
                        fix: $"fix the errors above (dotnet build {projectFile})");
                }
            }

            var (propCode, propOutput) = await DotnetAsync(["msbuild", projectFile, "-getProperty:TargetPath", "-nologo"], cancellationToken);
            var targetPath = propOutput.Trim().Split('\n').LastOrDefault()?.Trim();
            if (propCode != 0 || string.IsNullOrEmpty(targetPath))
            {
                throw new FlyteSharpException($"cannot find the project's output assembly: {propOutput.Trim()}", projectFile, fix: $"check that `dotnet build {projectFile}` works");
            }

            if (!File.Exists(targetPath))
            {
                throw new FlyteSharpException($"the project's output assembly {targetPath} does not exist", projectFile,
                    fix: build ? $"check that `dotnet build {projectFile}` works" : "build the project first, or drop --no-build");
            }

            var key = (targetPath, File.GetLastWriteTimeUtc(targetPath));
            if (Loaded.TryGetValue(key, out var cached))
            {
                return cached;
            }

            var context = new ProjectLoadContext(targetPath);
            var assembly = context.LoadFromAssemblyPath(targetPath);
            var project = new LoadedProject(projectFile, assembly);
            Loaded[key] = project;
            return project;
        }
        finally
        {
            gate.Release();
        }
    }

    private static async Task<(int Code, string Output)> DotnetAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        // A test host or another MSBuild may have left variables that point a child build at the wrong SDK pieces.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "MSBUILD_EXE_PATH").ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var process = Process.Start(info) ?? throw new FlyteSharpException("cannot start dotnet", fix: "install the .NET SDK and put dotnet on PATH");
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }
}
