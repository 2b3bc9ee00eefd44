using FlyteSharp.Runs;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// The labels every action container carries: its run and action, and the process that started it (host, pid,
/// start time, as the run store records run owners). A sweep removes containers whose owner is gone.
/// </summary>
internal static class ContainerLabels
{
    public const string Run = "flytesharp.run";

    public const string Action = "flytesharp.action";

    public const string Environment = "flytesharp.environment";

    public const string OwnerHost = "flytesharp.owner.host";

    public const string OwnerPid = "flytesharp.owner.pid";

    public const string OwnerStart = "flytesharp.owner.start";

    /// <summary>The labels of one action's container, owned by this process.</summary>
    public static Dictionary<string, string> For(string run, string action, string environment) => new(StringComparer.Ordinal)
    {
        [Run] = run,
        [Action] = action,
        [Environment] = environment,
        [OwnerHost] = RunStore.Self.Host,
        [OwnerPid] = RunStore.Self.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [OwnerStart] = RunStore.Self.Start.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
