namespace FlyteSharp.Tasks;

/// <summary>How widely a reusable environment's replicas are shared (Flyte's <c>ReusePolicy.scope</c>).</summary>
public enum ReuseScope
{
    /// <summary>One run: its replicas are removed before the run completes.</summary>
    Run,

    /// <summary>
    /// Every run of this process (the driver) with the same image and container settings: replicas outlive a run until
    /// their idle TTL passes or the process ends. A run with other code (a new bundle digest) restarts the interpreter
    /// inside a replica, not the container.
    /// </summary>
    Global,
}
