using System.Collections.Concurrent;
using FlyteSharp.Building;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>A build progress sink that keeps every update, in the order reported (builds report from their own threads).</summary>
public sealed class RecordingBuildProgress : IImageBuildProgress
{
    private readonly ConcurrentQueue<ImageBuildUpdate> _updates = new();

    /// <summary>Every update so far.</summary>
    public IReadOnlyList<ImageBuildUpdate> Updates => [.. _updates];

    /// <inheritdoc />
    public void Report(ImageBuildUpdate update) => _updates.Enqueue(update);

    /// <summary>Forgets what was reported so far.</summary>
    public void Clear() => _updates.Clear();
}
