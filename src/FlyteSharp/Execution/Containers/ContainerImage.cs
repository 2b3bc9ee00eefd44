namespace FlyteSharp.Execution.Containers;

/// <summary>The image one environment's tasks run in, and where things are inside it.</summary>
/// <param name="Uri">The image reference.</param>
/// <param name="PythonExecutable">The interpreter the runner is started with.</param>
/// <param name="RunnerPath">Where <c>flytesharp_runner.py</c> is in the image.</param>
/// <param name="CodeDirectory">Where a full build copied the code (no bundle is fetched then), or null for per-run bundles.</param>
/// <param name="InsecureRegistry">Pull over plain HTTP / without TLS verification.</param>
internal sealed record ContainerImage(string Uri, string PythonExecutable, string RunnerPath, string? CodeDirectory, bool InsecureRegistry)
{
    /// <summary>Extra <c>sys.path</c> entries relative to the code directory (the environment's uv workspace packages; see <see cref="Python.PythonImportPaths"/>).</summary>
    public IReadOnlyList<string> ImportPaths { get; init; } = [];
}
