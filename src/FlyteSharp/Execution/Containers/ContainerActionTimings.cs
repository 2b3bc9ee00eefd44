namespace FlyteSharp.Execution.Containers;

/// <summary>Where the time of one container step went (for the container latency benchmark in bench/).</summary>
/// <param name="Kind"><c>upload</c> (the bundle put into the store, once per run), <c>describe</c> (the pre-run check container) or <c>execute</c> (one action).</param>
/// <param name="Environment">The task environment.</param>
/// <param name="ImageReady">Resolving the image and checking (or building) its tag.</param>
/// <param name="ContainerStart">From launching the runtime until the runner started inside the container (interpreter start included).</param>
/// <param name="BundleUnpack">Fetching, verifying and unpacking the bundle inside the container.</param>
/// <param name="TaskRun">Importing and running the task function.</param>
/// <param name="Teardown">From the runner's end until the result is handed back: a successful reply is taken when the runner announces it; a failed one waits for the exit (and inspects its state); the removal runs afterwards, off this path.</param>
/// <param name="Total">The whole step as the executor saw it.</param>
internal sealed record ContainerActionTimings(
    string Kind, string Environment, TimeSpan ImageReady, TimeSpan ContainerStart, TimeSpan BundleUnpack, TimeSpan TaskRun, TimeSpan Teardown, TimeSpan Total);
