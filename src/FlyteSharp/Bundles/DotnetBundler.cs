using FlyteSharp.Content;
using FlyteSharp.Projects.Dotnet;

namespace FlyteSharp.Bundles;

/// <summary>
/// Makes the .NET code bundle of a run: the build output of the user's own projects (the <c>project</c> libraries of
/// the entry assembly's <c>.deps.json</c>: their assemblies, symbols and satellite resources, plus the entry's deps.json
/// and runtimeconfig.json), never NuGet packages (the image's dependency layer has them), never the framework (the
/// base image has it) and never FlyteSharp (the worker brings it). Files sit at the bundle's root as they sit next to
/// the entry assembly, so <c>/opt/flytesharp/app/</c> of a full build has the same layout. The archive is written with
/// the Python bundle's deterministic tar and gzip writers: same files, same bytes, same digest.
/// </summary>
internal static class DotnetBundler
{
    /// <summary>Builds the bundle of the build output around <paramref name="entryAssemblyPath"/> into the bundle cache of <paramref name="options"/>.</summary>
    /// <exception cref="FlyteSharpException">The assembly has no deps.json, or a file it lists is missing.</exception>
    public static Task<DotnetBundle> CreateAsync(string entryAssemblyPath, BundleOptions options, CancellationToken cancellationToken) =>
        Task.Run(() => Create(entryAssemblyPath, options, cancellationToken), cancellationToken);

    /// <summary>The files of the bundle: (path in the bundle, file on disk), ordinal order.</summary>
    /// <exception cref="FlyteSharpException">The assembly has no deps.json, or a file it lists is missing.</exception>
    public static IReadOnlyList<(string RelativePath, string FullPath)> Select(string entryAssemblyPath, out DepsJson depsFile)
    {
        var entry = Path.GetFullPath(entryAssemblyPath);
        var directory = Path.GetDirectoryName(entry)!;
        var stem = Path.GetFileNameWithoutExtension(entry);
        var deps = depsFile = DepsJson.Load(Path.Combine(directory, stem + ".deps.json"));
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Add(string relative, bool required)
        {
            if (relative.Length == 0 || relative.StartsWith('/') || relative.Contains('\\') || relative.Split('/').Contains(".."))
            {
                throw new FlyteSharpException($"deps.json lists '{relative}', which is not a path inside the build output", deps.File, fix: "rebuild the project");
            }

            var full = Path.Combine(directory, relative.Replace('/', Path.DirectorySeparatorChar));
            if (File.Exists(full))
            {
                files[relative] = full;
            }
            else if (required)
            {
                throw new FlyteSharpException($"the build output lacks '{relative}', which its deps.json lists", deps.File,
                    fix: "rebuild the project (dotnet build) so the output is complete");
            }
        }

        Add(stem + ".deps.json", required: true);
        Add(stem + ".runtimeconfig.json", required: false);
        var worker = typeof(DotnetBundler).Assembly.GetName().Name;
        foreach (var library in deps.Libraries.Where(l => l.IsProject && l.Name != worker))
        {
            foreach (var file in library.Files)
            {
                Add(file, required: true);
                if (file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && !file.Contains('/', StringComparison.Ordinal))
                {
                    Add(file[..^4] + ".pdb", required: false);
                }
            }
        }

        if (!files.ContainsKey(Path.GetFileName(entry)))
        {
            throw new FlyteSharpException($"the deps.json next to {Path.GetFileName(entry)} does not list it as a project", deps.File, fix: "rebuild the project");
        }

        return [.. files.Select(f => (f.Key, f.Value))];
    }

    private static DotnetBundle Create(string entryAssemblyPath, BundleOptions options, CancellationToken cancellationToken)
    {
        var files = Select(entryAssemblyPath, out var deps);
        var blobs = Path.Combine(options.EffectiveCacheDirectory, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        var temp = Path.Combine(blobs, ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            string digest;
            using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (var hashing = new HashingStream(output))
            using (var gzip = new DeterministicGzipStream(hashing, options.CompressionLevel))
            {
                var tar = new DeterministicTarWriter(gzip);
                foreach (var (relative, full) in files)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var bytes = File.ReadAllBytes(full);
                    tar.BeginFile(relative, executable: false, bytes.Length);
                    tar.WriteData(bytes);
                    tar.EndFile(bytes.Length);
                }

                tar.Finish();
                gzip.Finish();
                hashing.Flush();
                digest = hashing.Digest();
                output.Flush(flushToDisk: true);
            }

            var final = CodeBundler.ArchivePath(options.EffectiveCacheDirectory, digest);
            File.Move(temp, final, overwrite: true);
            return new DotnetBundle(digest, final, Path.GetFileName(entryAssemblyPath), [.. files.Select(f => f.RelativePath)], deps.FrameworkVersion);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
