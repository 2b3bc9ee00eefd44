using System.Globalization;

namespace FlyteSharp.Tasks;

/// <summary>
/// Keeps containers of an environment warm between its actions (Flyte's <c>flyte.ReusePolicy</c>): in container mode
/// up to <see cref="Replicas"/> containers of the environment's image stay alive, each running the Python runner (for C# tasks, the .NET worker) in a
/// serve loop, and every action of the environment is sent to an idle one instead of starting a container of its own.
/// A replica idle for <see cref="IdleTtl"/> is removed; all are removed when the run ends (or, with
/// <see cref="ReuseScope.Global"/>, when the driver process ends). Resources apply per replica. Local mode keeps its
/// warm interpreters anyway and ignores the policy; Kubernetes mode keeps long-lived Pods that pull their calls from the
/// driver (docs/kubernetes.md), per run.
/// </summary>
/// <remarks>
/// State is shared between the actions a replica runs (module globals, files in the container): tasks of a reusable
/// environment must not depend on a fresh process. A replica that dies mid-action is replaced, and the action is
/// retried per its <see cref="TaskOptions.Retries"/>.
/// </remarks>
public sealed record ReusePolicy
{
    /// <summary>The idle time after which a replica is removed when none is given: 30 seconds, Flyte's default.</summary>
    public static readonly TimeSpan DefaultIdleTtl = TimeSpan.FromSeconds(30);

    /// <summary>The most replicas one environment may keep.</summary>
    public const int MaxReplicas = 64;

    /// <summary>Creates a policy.</summary>
    /// <param name="Replicas">How many containers may run this environment's actions at once, 1 to <see cref="MaxReplicas"/>
    /// (started on demand; Flyte's default is 2).</param>
    /// <param name="IdleTtl">How long a replica may sit idle before it is removed; positive, at most a day, or
    /// <see cref="Timeout.InfiniteTimeSpan"/> to keep it until the end of its scope. Null: <see cref="DefaultIdleTtl"/>.</param>
    /// <param name="Scope">How widely replicas are shared: one run (the default) or every run of this process.</param>
    /// <exception cref="FlyteSharpException">A value is out of range.</exception>
    public ReusePolicy(int Replicas = 2, TimeSpan? IdleTtl = null, ReuseScope Scope = ReuseScope.Run)
    {
        if (Replicas is < 1 or > MaxReplicas)
        {
            throw new FlyteSharpException($"ReusePolicy.Replicas must be between 1 and {MaxReplicas.ToString(CultureInfo.InvariantCulture)}, not {Replicas.ToString(CultureInfo.InvariantCulture)}",
                fix: "use e.g. new ReusePolicy(Replicas: 2), or leave reuse unset to start one container per action");
        }

        var ttl = IdleTtl ?? DefaultIdleTtl;
        if (ttl != Timeout.InfiniteTimeSpan && (ttl <= TimeSpan.Zero || ttl > TimeSpan.FromDays(1)))
        {
            throw new FlyteSharpException($"ReusePolicy.IdleTtl must be positive and at most one day, not {ttl.ToString("c", CultureInfo.InvariantCulture)}",
                fix: "use e.g. IdleTtl: TimeSpan.FromMinutes(5), or Timeout.InfiniteTimeSpan to keep replicas until the run ends");
        }

        if (!Enum.IsDefined(Scope))
        {
            throw new FlyteSharpException($"ReusePolicy.Scope {((int)Scope).ToString(CultureInfo.InvariantCulture)} is not a ReuseScope",
                fix: "use ReuseScope.Run or ReuseScope.Global");
        }

        this.Replicas = Replicas;
        this.IdleTtl = ttl;
        this.Scope = Scope;
    }

    /// <summary>The most containers kept for the environment (each runs one action at a time).</summary>
    public int Replicas { get; }

    /// <summary>How long a replica may sit idle before it is removed (<see cref="Timeout.InfiniteTimeSpan"/>: never, until its scope ends).</summary>
    public TimeSpan IdleTtl { get; }

    /// <summary>How widely the replicas are shared.</summary>
    public ReuseScope Scope { get; }
}
