using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Python;

namespace FlyteSharp.Execution;

/// <summary>
/// Makes a run's code bundle from root_dir (the same deterministic archive a container gets) and extracts it,
/// digest-verified, into the run's sandbox: local Python tasks import only what the bundle carries, so a
/// wrong root_dir or an ignored module fails here rather than in production.
/// </summary>
internal static class RunBundles
{
    public static async Task<PythonBundle> PrepareAsync(string rootDir, FlyteConfig config, string sandboxDirectory, CancellationToken cancellationToken)
    {
        var bundle = await CodeBundler.CreateAsync(rootDir, BundleOptions.For(config), cancellationToken).ConfigureAwait(false);
        var target = Path.Combine(sandboxDirectory, "bundle");
        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, target, cancellationToken: cancellationToken).ConfigureAwait(false);

        // The blob store upload joins here once Storage lands; containers download the bundle by this URI.
        return new PythonBundle(bundle.Digest, bundle.ArchivePath, null, target);
    }
}
