using FlyteSharp.Cli.Progress;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Cli.Progress;

public class PlainProgressTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static ActionRecord Action(string id, string task, ActionStatus status, int attempts = 1, string? host = null, TaskError? error = null) =>
        new(id, id == "root" ? null : "root", 0, id == "root" ? 0 : 1, task, TaskKind.Python, "etl", status, attempts, false, "{}", null, error, At,
            status == ActionStatus.Running ? null : At.AddSeconds(2)) { Host = host };

    [Fact]
    public void Changes_ActionLifecycle_StartedPlacedRetryingEndedOncePerChange()
    {
        var progress = new PlainProgress();

        var first = progress.Changes([Action("root", "pipe", ActionStatus.Running)]);
        var second = progress.Changes([Action("root", "pipe", ActionStatus.Running, host: "local python (h, pid 7)")]);
        var third = progress.Changes([Action("root", "pipe", ActionStatus.Running, 2, "local python (h, pid 7)")]);
        var same = progress.Changes([Action("root", "pipe", ActionStatus.Running, 2, "local python (h, pid 7)")]);
        var last = progress.Changes([Action("root", "pipe", ActionStatus.Failed, 2, "local python (h, pid 7)", new TaskError("ValueError", "bad\nmore", null))]);

        Assert.Equal(["started   pipe [root] (etl)"], first);
        Assert.Equal(["running   pipe [root] on local python (h, pid 7)"], second);
        Assert.Equal(["retrying  pipe [root] attempt 2"], third);
        Assert.Empty(same);
        Assert.Equal(["failed    pipe [root] in 2.00 s, 2 attempts: ValueError: bad"], last);
    }

    [Fact]
    public void Changes_WideFanOut_SummarizedPerTask()
    {
        var progress = new PlainProgress();
        var children = Enumerable.Range(0, 200).Select(i => Action($"c{i}", "square", ActionStatus.Succeeded)).ToList();

        var lines = progress.Changes([Action("root", "pipe", ActionStatus.Running), .. children]);

        Assert.Equal(["started   pipe [root] (etl)", "started   200 × square", "succeeded 200 × square"], lines);
    }

    [Fact]
    public void Changes_AnyInput_NoEscapeCodes()
    {
        var lines = new PlainProgress().Changes([Action("root", "pi\u001b[31mpe", ActionStatus.Succeeded)]);

        Assert.All(lines, l => Assert.DoesNotContain("\u001b[31m", l, StringComparison.Ordinal));
    }
}
