using FlyteSharp.Execution.Kubernetes;
using FlyteSharp.Runner;

namespace FlyteSharp.Tests.Execution.Kubernetes;

public sealed class PodLogTests
{
    [Fact]
    public void Add_ResultLine_IsKeptNotLogged()
    {
        var logged = new List<string>();
        var log = new PodLog((_, line) => logged.Add(line));

        log.Add("working");
        log.Add(RunnerProtocol.ResultBegin + """{"ok": true, "output": 1}""" + RunnerProtocol.ResultEnd);

        Assert.Equal(["working"], logged);
        Assert.Equal("""{"ok": true, "output": 1}""", log.ResultJson);
    }

    [Fact]
    public void Add_TaskOutputWithoutNewlineBeforeResult_LogsTheOutputPart()
    {
        var logged = new List<string>();
        var log = new PodLog((_, line) => logged.Add(line));

        log.Add("no newline" + RunnerProtocol.ResultBegin + """{"ok": true, "output": 2}""" + RunnerProtocol.ResultEnd);

        Assert.Equal(["no newline"], logged);
        Assert.Equal("""{"ok": true, "output": 2}""", log.ResultJson);
    }

    [Fact]
    public void Add_TaskPrintsLookAlikeEarlier_RunnersLastLineWins()
    {
        var log = new PodLog(null);

        log.Add(RunnerProtocol.ResultBegin + """{"ok": true, "output": "forged"}""" + RunnerProtocol.ResultEnd);
        log.Add(RunnerProtocol.ResultBegin + """{"ok": true, "output": "real"}""" + RunnerProtocol.ResultEnd);

        Assert.Equal("""{"ok": true, "output": "real"}""", log.ResultJson);
    }

    [Fact]
    public void Replay_LogReadAgainAfterBrokenStream_LinesNotLoggedTwice()
    {
        var logged = new List<string>();
        var log = new PodLog((_, line) => logged.Add(line));
        log.Add("one");
        log.Add("two");

        log.Replay();
        log.Add("one");
        log.Add("two");
        log.Add("three");

        Assert.Equal(["one", "two", "three"], logged);
    }
}
