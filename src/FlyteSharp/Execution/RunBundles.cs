using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Python;
using FlyteSharp.Storage;

namespace FlyteSharp.Execution;

/// <summary>
/// Makes a run's code bundle from root_dir (the same deterministic archive a container gets), puts it in the
/// configured blob store (idempotent: a known digest costs one existence check) and extracts it, digest-verified,
/// into the run's sandbox: local Python tasks import only what the bundle carries, so a wrong root_dir or an
/// ignored module fails here rather than in production.
/// </summary>
internal static class RunBundles
{
    public static async Task<PythonBundle> PrepareAsync(string rootDir, FlyteConfig config, string sandboxDirectory, CancellationToken cancellationToken)
    {
        var bundle = await CodeBundler.CreateAsync(rootDir, BundleOptions.For(config), cancellationToken).ConfigureAwait(false);
        string storeUri;
        var store = BlobStores.Open(config.EffectiveStoreUri, config);
        await using (store.ConfigureAwait(false))
        {
            storeUri = await store.PutAsync(bundle.Digest, bundle.ArchivePath, cancellationToken).ConfigureAwait(false);
        }

        var target = Path.Combine(sandboxDirectory, "bundle");
        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, target, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new PythonBundle(bundle.Digest, bundle.ArchivePath, storeUri, target);
    }

    /// <summary>
    /// The run bundle's blob URI: where the run already put it, else put into the configured store now (idempotent).
    /// Null when there is neither (a deployed version, whose code is in its images).
    /// </summary>
    public static async Task<(string? BlobUri, bool Uploaded)> UploadAsync(PythonExecutorContext context, CancellationToken cancellationToken)
    {
        if (context.Bundle.StoreUri is { } uri)
        {
            return (uri, false);
        }

        if (context.Bundle.ArchivePath is not { } archive)
        {
            return (null, false);
        }

        var store = BlobStores.Open(context.Config.EffectiveStoreUri, context.Config);
        await using var storeDisposal = store.ConfigureAwait(false);
        return (await store.PutAsync(context.Bundle.Digest, archive, cancellationToken).ConfigureAwait(false), true);
    }
}
