using System.Text.RegularExpressions;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Runs;

public class RunPagesTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void RunPage_ValuesWithMarkup_AreEscaped()
    {
        var run = new RunRecord("r<1>", "t", "env", RunStatus.Failed, "{\"s\":\"<script>alert(1)</script>\"}", null,
            new TaskError("ValueError", "bad <b>input</b>", "Traceback & <tags>"), "u", At, At.AddSeconds(2), "sha256:ab", ExecutionMode.Local);
        var actions = new[]
        {
            new ActionRecord("a1\"><x", null, 0, 0, "<img src=x>", TaskKind.Python, "env", ActionStatus.Failed, 1, false, "{}", null, run.Error, At, At.AddSeconds(1))
            {
                Host = "<svg onload=alert(1)>", Image = "<i>img</i>", EnvVars = new Dictionary<string, string> { ["A"] = "<u>" },
            },
        };
        var logs = new[] { new LogLine("a1\"><x", At, "stdout", "<iframe>") };

        var html = RunPages.RunPage(run, actions, logs);

        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<iframe>", html);
        Assert.DoesNotContain("<b>input", html);
        Assert.DoesNotContain("<svg onload", html);
        Assert.DoesNotContain("<i>img", html);
        Assert.DoesNotContain("<u>", html);
        Assert.DoesNotContain("a1\"><x", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.Contains("r&lt;1&gt;", html);
        Assert.Contains("Traceback &amp; &lt;tags&gt;", html);
    }

    [Fact]
    public void RunPage_AnyRun_HasNoInlineScriptOrStyle()
    {
        var run = new RunRecord("r1", "pipe", "etl", RunStatus.Running, "{}", null, null, "u", At, null, null, ExecutionMode.Local);
        var actions = new[] { new ActionRecord("a1", null, 0, 3, "pipe", TaskKind.CSharp, "etl", ActionStatus.Running, 1, false, "{}", null, null, At, null) };

        var html = RunPages.RunPage(run, actions, []);

        Assert.DoesNotMatch(new Regex("<script(?![^>]*\\ssrc=\"/static/console\\.js\")"), html);
        Assert.DoesNotContain("<style", html);
        Assert.DoesNotContain(" style=", html);
        Assert.DoesNotContain("http-equiv=\"refresh\"", html);
        Assert.Contains("<main id=\"live\" data-running=\"true\">", html);
    }

    [Fact]
    public void RunPage_ActionTree_NestsChildrenAndShowsWhereEachRanWithLogsAndErrorsInPlace()
    {
        var run = new RunRecord("r1", "pipe", "etl", RunStatus.Failed, "{\"n\":3}", null, null, "u", At, At.AddSeconds(4), "sha256:bundle", ExecutionMode.Container);
        var actions = new[]
        {
            new ActionRecord("a1", null, 0, 0, "pipe", TaskKind.CSharp, "etl", ActionStatus.Failed, 1, false, "{\"n\":3}", null, new TaskError("E", "m", null), At, At.AddSeconds(4))
            {
                Host = "in-process (h, pid 1)",
            },
            new ActionRecord("a2", "a1", 1, 1, "m:load", TaskKind.Python, "etl", ActionStatus.Succeeded, 1, false, "{\"n\":3}", "[0,1]", null, At, At.AddSeconds(1))
            {
                Image = "localhost:5000/flytesharp:abc", Host = "podman container flytesharp-r1-1", EnvVars = new Dictionary<string, string> { ["LEVEL"] = "debug" },
            },
            new ActionRecord("a3", "a1", 2, 1, "m:fail", TaskKind.Python, "etl", ActionStatus.Failed, 2, false, "{}", null,
                new TaskError("ValueError", "boom", "Traceback (most recent call last):\n  File \"m.py\", line 2"), At.AddSeconds(1), At.AddSeconds(3)),
        };
        var logs = new[] { new LogLine("a2", At, "stdout", "loading 3"), new LogLine("a3", At, "stderr", "about to fail") };

        var html = RunPages.RunPage(run, actions, logs);

        var a2 = Section(html, "a2");
        Assert.Contains("podman container flytesharp-r1-1", a2);
        Assert.Contains("localhost:5000/flytesharp:abc", a2);
        Assert.Contains("sha256:bundle", a2);
        Assert.Contains("LEVEL=debug", a2);
        Assert.Contains("loading 3", a2);
        Assert.Contains("[0,1]", a2);
        var a3 = Section(html, "a3");
        Assert.Contains("data-status=\"failed\" open", a3);
        Assert.Contains("Traceback (most recent call last):", a3);
        Assert.Contains("[stderr] about to fail", a3);
        Assert.Contains("2 attempts", a3);
        // Children are nested inside the parent's list item.
        Assert.Matches(new Regex("data-action-id=\"a1\".*?<ul><li><details class=\"action\" data-action-id=\"a2\".*?<li><details class=\"action\" data-action-id=\"a3\"", RegexOptions.Singleline), html);
    }

    [Fact]
    public void RunPage_Timeline_DrawsQueueRunAndRetryMarksOnOneScale()
    {
        var run = new RunRecord("r1", "pipe", "etl", RunStatus.Succeeded, "{}", "1", null, "u", At, At.AddSeconds(10), null, ExecutionMode.Local);
        var actions = new[]
        {
            new ActionRecord("a1", null, 0, 0, "pipe", TaskKind.CSharp, "etl", ActionStatus.Succeeded, 1, false, "{}", "1", null, At, At.AddSeconds(10))
            {
                AttemptStartedAt = [At],
            },
            new ActionRecord("a2", "a1", 1, 1, "m:slow", TaskKind.Python, "etl", ActionStatus.Succeeded, 2, false, "{}", "1", null, At.AddSeconds(5), At.AddSeconds(10))
            {
                AttemptStartedAt = [At.AddSeconds(7.5), At.AddSeconds(8.75)],
            },
        };

        var html = RunPages.RunPage(run, actions, []);

        var timeline = Regex.Match(html, "<div class=\"timeline\" id=\"timeline\">.*?</svg>", RegexOptions.Singleline).Value;
        var row = Regex.Match(timeline, "<g class=\"row\" data-action-id=\"a2\">.*?</g>", RegexOptions.Singleline).Value;
        // 760 px for 10 s after a 260 px label column: queued 5 s → 7.5 s, ran 7.5 s → 10 s, retried at 8.75 s.
        Assert.Contains("<rect class=\"queue\" x=\"640\" y=\"43\" width=\"190\"", row);
        Assert.Contains("<rect class=\"bar succeeded\" x=\"830\" y=\"42\" width=\"190\"", row);
        Assert.Contains("<line class=\"attempt\" x1=\"925\"", row);
        Assert.Contains("<title>m:slow [a2] succeeded, queued 2.50 s, ran 2.50 s, 2 attempt(s)</title>", row);
        Assert.Contains("<rect class=\"bar succeeded\" x=\"260\" y=\"24\" width=\"760\"", timeline);
    }

    [Fact]
    public void RunPage_LargeOutput_PreviewedAndLinked()
    {
        var big = "[" + string.Join(",", Enumerable.Repeat("12345", 1000)) + "]";
        var run = new RunRecord("r1", "pipe", "etl", RunStatus.Succeeded, "{}", big, null, "u", At, At.AddSeconds(1), null, ExecutionMode.Local);

        var html = RunPages.RunPage(run, [], []);

        Assert.DoesNotContain(big, html);
        Assert.Contains("<a class=\"output-link\" id=\"run-outputs-link\" href=\"/api/runs/r1/output\">full output (5.9 KiB)</a>", html);
        Assert.Equal(6001, big.Length);
    }

    [Fact]
    public void RunList_RunningRunFiltersAndNextPage_LiveMarkerFormValuesAndOlderLink()
    {
        var runs = new[] { new RunRecord("a b", "t", "e", RunStatus.Running, null, null, null, "u", At, null, null, ExecutionMode.Local) };
        var query = new RunQuery(RunStatus.Running, "etl<", At, null);

        var html = RunPages.RunList(new RunPage(runs, "2026-01-01T00:00:00.0000000Z|a b"), query);

        Assert.Contains("href=\"/runs/a%20b\"", html);
        Assert.Contains("<main id=\"live\" data-running=\"true\">", html);
        Assert.DoesNotContain("http-equiv=\"refresh\"", html);
        Assert.Contains("<option value=\"running\" selected>", html);
        Assert.Contains("name=\"task\" value=\"etl&lt;\"", html);
        Assert.Contains("name=\"since\" value=\"2026-01-01T00:00\"", html);
        Assert.Contains("href=\"/runs?status=running&amp;task=etl%3C&amp;since=2026-01-01T00%3A00&amp;before=2026-01-01T00%3A00%3A00.0000000Z%7Ca%20b\"", html);
    }

    private static string Section(string html, string id) =>
        Regex.Match(html, $"<details class=\"action\" data-action-id=\"{id}\".*?</details>", RegexOptions.Singleline).Value;
}
