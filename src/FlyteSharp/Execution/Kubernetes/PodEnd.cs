namespace FlyteSharp.Execution.Kubernetes;

/// <summary>How a long-lived pod ended: its container's exit code and reason, or why it never ran or is gone (<paramref name="Message"/>).</summary>
internal sealed record PodEnd(int? ExitCode, string? Reason, string? Message);
