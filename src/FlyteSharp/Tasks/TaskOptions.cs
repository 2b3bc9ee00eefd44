namespace FlyteSharp.Tasks;

/// <summary>
/// How one task is executed: retries with exponential backoff, a timeout per attempt, and opt-in
/// caching of outputs keyed by the task's name, its inputs and its code version (automatic, or pinned with
/// <see cref="CacheVersion"/>).
/// </summary>
public sealed record TaskOptions
{
    /// <summary>The defaults: no retries, no timeout, no caching.</summary>
    public static TaskOptions Default { get; } = new();

    /// <summary>How many times a failed attempt is retried (0 = run once).</summary>
    public int Retries { get; init; }

    /// <summary>Delay before the first retry; each further retry doubles it.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Time limit of one attempt; the attempt's cancellation token fires when it passes. Null: no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// When true, a call with the same task, inputs and code version returns the recorded output without running
    /// the body. The code version is automatic unless <see cref="CacheVersion"/> pins it: for a Python task the bytes
    /// of the function's module (editing that module invalidates, editing another file does not), for a C# task the
    /// identity (MVID) of the assembly holding the body (any rebuild that changes the assembly invalidates).
    /// </summary>
    public bool Cache { get; init; }

    /// <summary>
    /// Pins the cache's code version: outputs are reused across code edits until this string changes. Null (the
    /// default) derives the version from the code itself (see <see cref="Cache"/>).
    /// </summary>
    public string? CacheVersion { get; init; }

    internal void Validate(string taskName)
    {
        if (Retries < 0)
        {
            throw new FlyteSharpException($"task '{taskName}': Retries must be 0 or more, not {Retries}", fix: "set Retries = 0 to run once");
        }

        if (RetryBackoff < TimeSpan.Zero)
        {
            throw new FlyteSharpException($"task '{taskName}': RetryBackoff must not be negative", fix: "use TimeSpan.Zero or a positive delay");
        }

        if (Timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new FlyteSharpException($"task '{taskName}': Timeout must be positive, not {t}", fix: "use a positive TimeSpan or leave Timeout null");
        }

        if (CacheVersion is not null && string.IsNullOrWhiteSpace(CacheVersion))
        {
            throw new FlyteSharpException($"task '{taskName}': CacheVersion must not be empty",
                fix: "pin a version such as CacheVersion = \"1\", or leave it null to derive it from the task's code");
        }
    }
}
