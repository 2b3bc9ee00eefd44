namespace FlyteSharp.Tests.Worker;

/// <summary>
/// Runs alone: the worker's serve loop flips the process-wide switch that skips reading image definition files, and
/// counting load contexts after full collections must not race other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkerReloadUnloadCollection
{
    public const string Name = "worker-reload-unload";
}
