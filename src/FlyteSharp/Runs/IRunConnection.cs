namespace FlyteSharp.Runs;

/// <summary>
/// What a <see cref="Run"/> handle knows of its run: the execution layer implements it, so the handle never sees
/// the controller, the writer or the executors.
/// </summary>
internal interface IRunConnection
{
    /// <summary>The run's unique name.</summary>
    string Name { get; }

    /// <summary>The run's console URL.</summary>
    string Url { get; }

    /// <summary>The code bundle's digest; null when the run has no bundle.</summary>
    string? BundleDigest { get; }

    /// <summary>The run store the run is recorded in.</summary>
    RunStore Store { get; }

    /// <summary>Completes when the run has ended and everything about it is written, clean-up included.</summary>
    Task<RunResult> Completion { get; }

    /// <summary>Completes as soon as the run's outcome is recorded (before clean-up such as container removal ends).</summary>
    Task<RunResult> Recorded { get; }

    /// <summary>The root task's output once the run succeeded (a large output is read from the store once, on first ask).</summary>
    Task<object?> ReadOutputAsync();

    /// <summary>Cancels the run.</summary>
    void Cancel();

    /// <summary>Writes everything recorded so far to the run store.</summary>
    Task FlushAsync(CancellationToken cancellationToken);
}
