using FlyteSharp.Tasks;

namespace FlyteSharp.Runs;

/// <summary>A run as recorded in the run store.</summary>
/// <param name="Name">The run's unique name.</param>
/// <param name="Task">The root task's name.</param>
/// <param name="Environment">The root task's environment.</param>
/// <param name="Status">The run's state.</param>
/// <param name="InputsJson">The root inputs, a JSON object keyed by parameter name, when kept inline (see <see cref="InputsBlob"/>).</param>
/// <param name="OutputsJson">The root output as JSON, once succeeded, when it is kept inline (see <see cref="OutputsBlob"/>).</param>
/// <param name="Error">The error, once failed or abandoned.</param>
/// <param name="Url">The run's console URL.</param>
/// <param name="CreatedAt">When the run started.</param>
/// <param name="EndedAt">When it ended.</param>
/// <param name="BundleDigest">The code bundle's digest, when the run used one.</param>
/// <param name="Mode">Where Python actions ran (stored as <c>local</c>, <c>container</c> or <c>kubernetes</c>).</param>
public sealed record RunRecord(
    string Name,
    string Task,
    string Environment,
    RunStatus Status,
    string? InputsJson,
    string? OutputsJson,
    TaskError? Error,
    string Url,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EndedAt,
    string? BundleDigest,
    ExecutionMode Mode)
{
    /// <summary>How long the run took (so far).</summary>
    public TimeSpan? Duration => EndedAt - CreatedAt;

    /// <summary>The inputs' blob when they were larger than the inline limit (then <see cref="RunRecord.InputsJson"/> is null).</summary>
    public OutputBlob? InputsBlob { get; init; }

    /// <summary>The output's blob when it was larger than the inline limit (then <see cref="RunRecord.OutputsJson"/> is null).</summary>
    public OutputBlob? OutputsBlob { get; init; }

    /// <summary>The full length of the inline output in characters (set when a preview was read: console, <c>runs show</c>).</summary>
    public long? OutputsLength { get; internal init; }
}

/// <summary>One action of a run's tree as recorded in the run store.</summary>
/// <param name="Id">The deterministic action id.</param>
/// <param name="ParentId">The calling action's id; null for the root.</param>
/// <param name="Sequence">The call's position among its parent's calls (1-based; 0 for the root).</param>
/// <param name="Depth">Nesting depth (0 for the root).</param>
/// <param name="Task">The task's name.</param>
/// <param name="Kind">What the task is written in (stored as <c>csharp</c> or <c>python</c>).</param>
/// <param name="Environment">The task's environment.</param>
/// <param name="Status">The action's state.</param>
/// <param name="Attempts">How many attempts ran.</param>
/// <param name="CacheHit">True when the output came from the cache.</param>
/// <param name="InputsJson">Inputs, a JSON object keyed by parameter name, when kept inline (see <see cref="InputsBlob"/>).</param>
/// <param name="OutputsJson">The output as JSON, when it is kept inline (see <see cref="OutputsBlob"/>).</param>
/// <param name="Error">The error of the last attempt, when failed.</param>
/// <param name="StartedAt">When the action started.</param>
/// <param name="EndedAt">When it ended.</param>
public sealed record ActionRecord(
    string Id,
    string? ParentId,
    int Sequence,
    int Depth,
    string Task,
    TaskKind Kind,
    string Environment,
    ActionStatus Status,
    int Attempts,
    bool CacheHit,
    string? InputsJson,
    string? OutputsJson,
    TaskError? Error,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt)
{
    /// <summary>How long the action took (so far).</summary>
    public TimeSpan? Duration => EndedAt - StartedAt;

    /// <summary>The environment variables it ran with (its environment's <c>EnvVars</c>; secrets are never recorded).</summary>
    public IReadOnlyDictionary<string, string> EnvVars { get; init; } = new Dictionary<string, string>();

    /// <summary>The image URI it ran in (container and kubernetes modes); null when it ran on this machine.</summary>
    public string? Image { get; init; }

    /// <summary>Where it ran, e.g. <c>local python (pid 4242)</c>, <c>container flytesharp-…</c>, <c>pod flytesharp-… in namespace ml</c>.</summary>
    public string? Host { get; init; }

    /// <summary>When each attempt started (after waiting for a concurrency slot); the time before the first is queueing.</summary>
    public IReadOnlyList<DateTimeOffset> AttemptStartedAt { get; init; } = [];

    /// <summary>The inputs' blob when they were larger than the inline limit (then <see cref="ActionRecord.InputsJson"/> is null).</summary>
    public OutputBlob? InputsBlob { get; init; }

    /// <summary>The output's blob when it was larger than the inline limit (then <see cref="ActionRecord.OutputsJson"/> is null).</summary>
    public OutputBlob? OutputsBlob { get; init; }

    /// <summary>The full length of the inline output in characters (set when a preview was read: console, <c>runs show</c>).</summary>
    public long? OutputsLength { get; internal init; }
}
