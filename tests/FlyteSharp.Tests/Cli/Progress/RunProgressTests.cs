using FlyteSharp.Cli.Progress;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using Spectre.Console;

namespace FlyteSharp.Tests.Cli.Progress;

public class RunProgressTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Tree_Actions_NestedWithStatusAttemptDurationEnvironmentHostAndMarkupEscaped()
    {
        var actions = new[]
        {
            new ActionRecord("root", null, 0, 0, "pipe[red]x[/]", TaskKind.CSharp, "etl", ActionStatus.Running, 1, false, "{}", null, null, At, null) { Host = "in-process (h, pid 1)" },
            new ActionRecord("c1", "root", 1, 1, "m:load", TaskKind.Python, "etl", ActionStatus.Failed, 3, false, "{}", null, new TaskError("ValueError", "bad [input]", null), At, At.AddSeconds(1.5))
            {
                Host = "podman container flytesharp-x-1",
            },
        };
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 300;

        console.Write(RunProgress.Tree("run-1", actions));

        var text = writer.ToString();
        Assert.Contains("run-1", text);
        Assert.Contains("● running  pipe[red]x[/]  etl  attempt 1  in-process (h, pid 1)", text);
        Assert.Contains("✗ failed  m:load  etl  attempt 3  1.50 s  podman container flytesharp-x-1  ValueError: bad [input]", text);
        Assert.True(text.IndexOf("m:load", StringComparison.Ordinal) > text.IndexOf("pipe", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', text);
    }
}
