namespace FlyteSharp.Runs;

/// <summary>The state of one action in a run's tree.</summary>
public enum ActionStatus
{
    /// <summary>Started (or waiting for a concurrency slot) and not yet finished.</summary>
    Running = 0,

    /// <summary>The body returned an output.</summary>
    Succeeded = 1,

    /// <summary>The last attempt failed.</summary>
    Failed = 2,

    /// <summary>The last attempt ran past the task's timeout.</summary>
    TimedOut = 3,

    /// <summary>The output came from the cache; the body did not run.</summary>
    Cached = 4,

    /// <summary>Cancelled with its run.</summary>
    Cancelled = 5,

    /// <summary>Its run was abandoned while it was running.</summary>
    Abandoned = 6,
}
