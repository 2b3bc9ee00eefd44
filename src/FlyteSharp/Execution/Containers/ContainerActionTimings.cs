namespace FlyteSharp.Execution.Containers;

/// <summary>Where the time of one containerized action went (for the container latency benchmark).</summary>
/// <param name="ImageReady">Resolving the image and checking (or building) its tag.</param>
/// <param name="ContainerStart">From launching the runtime until the runner started inside the container.</param>
/// <param name="BundleUnpack">Fetching, verifying and unpacking the bundle inside the container.</param>
/// <param name="TaskRun">Importing and running the task function.</param>
/// <param name="Teardown">From the runner's exit to the container being inspected and removed.</param>
/// <param name="Total">The whole action as the executor saw it.</param>
internal sealed record ContainerActionTimings(
    TimeSpan ImageReady, TimeSpan ContainerStart, TimeSpan BundleUnpack, TimeSpan TaskRun, TimeSpan Teardown, TimeSpan Total);
