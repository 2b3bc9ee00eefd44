using FlyteSharp.Runs;

namespace FlyteSharp.Tests.Runs;

public class RunPagesTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-01-01T00:00:00Z");

    [Fact]
    public void RunPage_ValuesWithMarkup_AreEscaped()
    {
        var run = new RunRecord("r<1>", "t", "env", RunStatus.Failed, "{\"s\":\"<script>alert(1)</script>\"}", null,
            new TaskError("ValueError", "bad <b>input</b>", "Traceback & <tags>"), "u", At, At.AddSeconds(2), "sha256:ab", "local");
        var actions = new[] { new ActionRecord("a1", null, 0, 0, "<img src=x>", "python", "env", ActionStatus.Failed, 1, false, "{}", null, run.Error, At, At.AddSeconds(1)) };
        var logs = new[] { new LogLine("a1", At, "stdout", "<iframe>") };

        var html = RunPages.RunPage(run, actions, logs);

        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<iframe>", html);
        Assert.DoesNotContain("<b>input", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.Contains("r&lt;1&gt;", html);
        Assert.Contains("Traceback &amp; &lt;tags&gt;", html);
    }

    [Fact]
    public void RunPage_ActionTree_ShowsEveryActionStatusAndOutputs()
    {
        var run = new RunRecord("r1", "pipe", "etl", RunStatus.Succeeded, "{\"n\":3}", "[1,2]", null, "u", At, At.AddSeconds(1), null, "local");
        var actions = new[]
        {
            new ActionRecord("a1", null, 0, 0, "pipe", "csharp", "etl", ActionStatus.Succeeded, 1, false, "{\"n\":3}", "[1,2]", null, At, At.AddMilliseconds(900)),
            new ActionRecord("a2", "a1", 1, 1, "m:load", "python", "etl", ActionStatus.Cached, 0, true, "{\"n\":3}", "[0,1]", null, At, At),
        };

        var html = RunPages.RunPage(run, actions, []);

        Assert.Contains("data-action-id=\"a1\"", html);
        Assert.Contains("data-action-id=\"a2\"", html);
        Assert.Contains(">cached<", html);
        Assert.Contains("[1,2]", html);
        Assert.Contains("900 ms", html);
        Assert.DoesNotContain("http-equiv=\"refresh\"", html);
    }

    [Fact]
    public void RunList_RunningRun_RefreshesAndLinksEachRun()
    {
        var runs = new[] { new RunRecord("a b", "t", "e", RunStatus.Running, null, null, null, "u", At, null, null, "local") };

        var html = RunPages.RunList(runs);

        Assert.Contains("href=\"/runs/a%20b\"", html);
        Assert.Contains("http-equiv=\"refresh\"", html);
    }
}
