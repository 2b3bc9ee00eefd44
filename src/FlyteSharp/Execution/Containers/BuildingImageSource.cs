using System.Collections.Concurrent;
using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// Fast-deploy images: each environment's image resolved with <see cref="CopyStyle.All"/> (the code
/// travels as the bundle), built and pushed only when the registry lacks its tag — once per tag per run. Each check and
/// build reports to <paramref name="progress"/> (the run's <see cref="RunOptions.BuildProgress"/>). An environment's
/// image is resolved once per run: every action of the run gets the image its first action got, so a dependency file
/// edited while the run goes never gives one run two images (the next run sees the edit), and an action of a warm
/// environment costs no walk of the image's files.
/// </summary>
internal sealed class BuildingImageSource(
    FlyteConfig config, Func<CancellationToken, Task<ImageBuildService>> services, IImageBuildProgress? progress = null) : IContainerImageSource
{
    private readonly ConcurrentDictionary<string, Lazy<Task<ContainerImage>>> _images = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<TaskEnvironment, ContainerImage> _ready = new();
    private readonly Lock _serviceLock = new();
    private Task<ImageBuildService>? _service;

    /// <summary>The build results of this source (one per image it had to check), for reporting.</summary>
    public ConcurrentQueue<ImageBuildResult> Results { get; } = new();

    public async Task<string> RuntimeAsync(CancellationToken cancellationToken) => (await ServiceAsync(cancellationToken).ConfigureAwait(false)).Builder.Name;

    public Task<ContainerImage> GetAsync(TaskEnvironment environment, CancellationToken cancellationToken) =>
        _ready.TryGetValue(environment, out var ready) ? Task.FromResult(ready) : ResolveAsync(environment, cancellationToken);

    private async Task<ContainerImage> ResolveAsync(TaskEnvironment environment, CancellationToken cancellationToken)
    {
        ImageDiagnostics.ThrowIfLockStale([environment.Image]);
        var resolved = environment.Image.Resolve(new ImageResolveOptions(config, CopyStyle.All));
        var lazy = _images.GetOrAdd(resolved.Uri, _ => new Lazy<Task<ContainerImage>>(() => EnsureAsync(resolved, environment.Name, cancellationToken)));
        var importPaths = Python.PythonImportPaths.For(environment.Image, config.RootDir);
        var image = (await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false)) with { ImportPaths = importPaths };
        // The first caller's image stands for the run (concurrent first callers agree unless a file changed between them).
        return _ready.GetOrAdd(environment, image);
    }

    private async Task<ContainerImage> EnsureAsync(ResolvedImage image, string environment, CancellationToken cancellationToken)
    {
        try
        {
            var service = await ServiceAsync(cancellationToken).ConfigureAwait(false);
            foreach (var result in await service.EnsureAsync([ImageBuildTarget.From(image, environment)], progress: progress, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                Results.Enqueue(result);
            }

            var insecure = RegistryTagProbe.IsInsecure(image.Registry, config);
            return new ContainerImage(image.Uri, image.PythonExecutable, image.RunnerPath, image.CodeDirectory, insecure);
        }
        catch
        {
            // A failed or cancelled ensure is retried by the next caller, not cached.
            _images.TryRemove(image.Uri, out _);
            throw;
        }
    }

    private async Task<ImageBuildService> ServiceAsync(CancellationToken cancellationToken)
    {
        // One creation shared by every caller; a failed or cancelled one is replaced by the next caller's attempt.
        Task<ImageBuildService> service;
        lock (_serviceLock)
        {
            if (_service is null || _service.IsFaulted || _service.IsCanceled)
            {
                _service = services(cancellationToken);
            }

            service = _service;
        }

        return await service.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
