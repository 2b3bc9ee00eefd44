namespace FlyteSharp;

/// <summary>Where Python task actions run (in config, run records and JSON: <c>local</c>, <c>container</c>, <c>kubernetes</c>).</summary>
public enum ExecutionMode
{
    /// <summary>A local <c>python3</c> process running from the bundle extracted into a per-run sandbox (default).</summary>
    Local = 0,

    /// <summary>A container of the task environment's image, the bundle extracted at container start.</summary>
    Container = 1,

    /// <summary>
    /// A Kubernetes Pod of the task environment's image per action, the bundle fetched from an <c>oci://</c> store
    /// at pod start (see docs/kubernetes.md).
    /// </summary>
    Kubernetes = 2,
}
