using FlyteSharp.Configuration;
using FlyteSharp.Runner;

namespace FlyteSharp.Images;

/// <summary>
/// Where the .NET worker's files come from on this machine: <c>[images] dotnet_worker</c> when set, else the
/// <c>flytesharp-worker/</c> folder next to FlyteSharp.dll (an MSBuild target puts the worker's build output there in
/// every project that references FlyteSharp).
/// </summary>
internal static class DotnetWorkerFiles
{
    /// <summary>The worker's folder.</summary>
    /// <exception cref="FlyteSharpException">The folder or its entry assembly is missing.</exception>
    public static string Locate(FlyteConfig config)
    {
        var directory = config.DotnetWorkerDirectory
            ?? Path.Combine(Path.GetDirectoryName(typeof(DotnetWorkerFiles).Assembly.Location) ?? AppContext.BaseDirectory, DotnetWorkerCommand.HostFolderName);
        if (!File.Exists(Path.Combine(directory, DotnetWorkerCommand.EntryFileName)))
        {
            throw new FlyteSharpException($"FlyteSharp's .NET worker ({DotnetWorkerCommand.EntryFileName}) is not in {directory}", config.DotnetWorkerDirectory is null ? null : config.SourceFile,
                fix: "build the project that references FlyteSharp (its build copies the worker next to FlyteSharp.dll), or set [images] dotnet_worker in flytesharp.toml (FLYTESHARP_DOTNET_WORKER) to the worker's build output");
        }

        return directory;
    }

    /// <summary>The worker's files as (POSIX path relative to the folder, full path), ordinal order; symbols are left out.</summary>
    public static IReadOnlyList<(string RelativePath, string FullPath)> List(string directory) =>
        [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase) && !f.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
            .Select(f => (Path.GetRelativePath(directory, f).Replace(Path.DirectorySeparatorChar, '/'), f))
            .OrderBy(f => f.Item1, StringComparer.Ordinal)];
}
