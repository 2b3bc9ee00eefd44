using FlyteSharp.Configuration;
using FlyteSharp.Execution.Python;

namespace FlyteSharp.Execution;

/// <summary>Makes a run's code bundle from root_dir and extracts it into the run's sandbox.</summary>
internal static class RunBundles
{
    // INTERIM until the bundles work is merged: copies root_dir's .py files into the sandbox.
    // Replaced by CodeBundler.CreateAsync + store put + BundleExtractor.ExtractAsync.
    public static Task<PythonBundle> PrepareAsync(string rootDir, FlyteConfig config, string sandboxDirectory, CancellationToken cancellationToken)
    {
        _ = config;
        var target = Path.Combine(sandboxDirectory, "bundle");
        foreach (var file in Directory.EnumerateFiles(rootDir, "*.py", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(rootDir, file);
            if (relative.Split('/').Any(p => p is ".venv" or "__pycache__" or "bin" or "obj"))
            {
                continue;
            }

            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        Directory.CreateDirectory(target);
        return Task.FromResult(new PythonBundle("interim", null, null, target));
    }
}
