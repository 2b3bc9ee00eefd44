namespace FlyteSharp.Execution.Sandboxes;

/// <summary>Who made a sandbox: the run and the owning process (host, pid, start time, as the run store records owners).</summary>
internal sealed record SandboxOwner(string Run, string Host, int Pid, long Start, DateTimeOffset CreatedAt);
