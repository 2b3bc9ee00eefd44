using FlyteSharp.Cli;

namespace FlyteSharp.Tests.Cli;

public sealed class InternalErrorReportTests : IDisposable
{
    private readonly TempTree _tree = new("flytesharp-internal-error-");

    public void Dispose() => _tree.Dispose();

    private static readonly DateTimeOffset At = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    private static Exception Thrown()
    {
        try
        {
            throw new InvalidOperationException("the thing broke\nsecond line");
        }
        catch (InvalidOperationException ex)
        {
            return ex;
        }
    }

    [Fact]
    public void Report_WritableHome_PrintsOneLineAndTheLogPathAndLogsTheWholeException()
    {
        var error = new StringWriter();
        var home = _tree.PathOf("home");

        var code = InternalErrorReport.Report(Thrown(), error, new Dictionary<string, string?> { ["FLYTESHARP_HOME"] = home }, new FixedClock(At));

        Assert.Equal(2, code);
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("error: internal error: the thing broke second line", lines[0]);
        var log = Path.Combine(home, "logs", $"internal-error-20261127T100000Z-{Environment.ProcessId}.log");
        Assert.Equal($"  details: {log}", lines[1]);
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        var text = File.ReadAllText(log);
        Assert.Contains("System.InvalidOperationException: the thing broke", text);
        Assert.Contains($"at {typeof(InternalErrorReportTests).FullName}.{nameof(Thrown)}", text);
    }

    [Fact]
    public void Report_HomeIsAFile_LogsUnderTheTempDirectoryInstead()
    {
        var error = new StringWriter();
        var home = _tree.Write("home-is-a-file");

        var code = InternalErrorReport.Report(Thrown(), error, new Dictionary<string, string?> { ["FLYTESHARP_HOME"] = home }, new FixedClock(At));

        Assert.Equal(2, code);
        var details = error.ToString().Split('\n').Single(l => l.StartsWith("  details: ", StringComparison.Ordinal))["  details: ".Length..].Trim();
        Assert.StartsWith(Path.Combine(Path.GetTempPath(), "flytesharp-logs"), details);
        Assert.Contains("the thing broke", File.ReadAllText(details));
        File.Delete(details);
    }

    [Fact]
    public void LogDirectory_NoHomeVariable_IsUnderDotFlytesharp() =>
        Assert.Equal(
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".flytesharp", "logs"),
            InternalErrorReport.LogDirectory(new Dictionary<string, string?>()));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
