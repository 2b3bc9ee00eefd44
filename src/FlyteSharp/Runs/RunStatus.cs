namespace FlyteSharp.Runs;

/// <summary>The state of a run.</summary>
public enum RunStatus
{
    /// <summary>Started and not yet finished.</summary>
    Running = 0,

    /// <summary>The root action returned an output.</summary>
    Succeeded = 1,

    /// <summary>The root action failed (see the run's error).</summary>
    Failed = 2,

    /// <summary>Cancelled by the caller.</summary>
    Cancelled = 3,

    /// <summary>The process running it went away (killed, crashed) before it finished; detected when the store is read.</summary>
    Abandoned = 4,
}
