namespace FlyteSharp.Processes;

/// <summary>The outcome of one external command: exit code and what it printed.</summary>
internal sealed record CliResult(int ExitCode, string StandardOutput, string StandardError, string Combined)
{
    public bool Succeeded => ExitCode == 0;
}
