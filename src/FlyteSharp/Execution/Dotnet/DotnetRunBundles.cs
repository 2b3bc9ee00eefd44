using System.Collections.Concurrent;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Storage;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// The .NET code bundles of one run: one per assembly that holds the bodies of the C# tasks that leave the driver,
/// made once (the build output of the user's own projects, <see cref="DotnetBundler"/>) and put in the run's store,
/// content-addressed (a digest the store has is not sent again).
/// </summary>
internal sealed class DotnetRunBundles(FlyteConfig config) : IDotnetCodeSource
{
    private readonly ConcurrentDictionary<string, Lazy<Task<StoredDotnetBundle>>> _bundles = new(StringComparer.Ordinal);

    /// <summary>Made while the run went: (entry assembly path, bundle), for reporting.</summary>
    public IEnumerable<StoredDotnetBundle> Made => _bundles.Values.Where(l => l.IsValueCreated && l.Value.IsCompletedSuccessfully).Select(l => l.Value.Result);

    /// <summary>The bundle that carries <paramref name="task"/>'s body, made and stored on first use.</summary>
    /// <exception cref="FlyteSharpException">The body's assembly was not loaded from a build output, or the output is incomplete.</exception>
    public Task<StoredDotnetBundle> ForAsync(TaskDefinition task, CancellationToken cancellationToken)
    {
        var assembly = task.Body?.Method.Module.Assembly
            ?? throw new FlyteSharpException($"task '{task.Name}' has no C# body to run in a container", fix: "run Python tasks with the Python runner");
        var location = assembly.Location;
        if (string.IsNullOrEmpty(location))
        {
            throw new FlyteSharpException($"the body of task '{task.Name}' is in assembly {assembly.GetName().Name}, which was not loaded from a file, so there is no build output to bundle",
                fix: "load the project from its build output (dotnet build), not from a byte array or a dynamic assembly");
        }

        var lazy = _bundles.GetOrAdd(location, path => new Lazy<Task<StoredDotnetBundle>>(() => MakeAsync(path)));
        return lazy.Value.WaitAsync(cancellationToken);
    }

    /// <summary>The task's bundle, made and stored on first use, checked against the .NET of the environment's image.</summary>
    public async Task<DotnetTaskCode> CodeForAsync(TaskDefinition task, CancellationToken cancellationToken)
    {
        var stored = await ForAsync(task, cancellationToken).ConfigureAwait(false);
        DotnetFramework.Check(task, stored.Bundle, config);
        return new DotnetTaskCode(stored.Bundle.EntryAssembly, stored.Bundle.Digest, stored.StoreUri, stored.Bundle.ArchivePath,
            $".NET bundle {stored.Bundle.Digest} ({stored.Bundle.Files.Count} files from {stored.Bundle.EntryAssembly})");
    }

    private async Task<StoredDotnetBundle> MakeAsync(string entryAssembly)
    {
        try
        {
            var bundle = await DotnetBundler.CreateAsync(entryAssembly, BundleOptions.For(config), CancellationToken.None).ConfigureAwait(false);
            var store = BlobStores.Open(config.EffectiveStoreUri, config);
            await using var storeDisposal = store.ConfigureAwait(false);
            var uri = await store.PutAsync(bundle.Digest, bundle.ArchivePath, CancellationToken.None).ConfigureAwait(false);
            return new StoredDotnetBundle(entryAssembly, bundle, uri);
        }
        catch
        {
            // A failed bundle is made again by the next action, not cached.
            _bundles.TryRemove(entryAssembly, out _);
            throw;
        }
    }
}
