using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using FlyteSharp.Tests.Execution;

namespace FlyteSharp.Tests.Runs;

/// <summary><see cref="FlyteRuntime.Runs"/> and the console, read through the public API over a real run in a real store.</summary>
public class RunHistoryTests
{
    private static readonly TaskEnvironment Env = new("history", Image.FromDebianBase());
    private static readonly FlyteTask<int, string> Child = Env.Task("history_child", (int n) => Task.FromResult(new string('x', n)));
    private static readonly FlyteTask<int, int> Root = Env.Task("history_root", async (int n) => (await Child.InvokeAsync(n)).Length + 1);

    [Fact]
    public async Task Runs_AfterARun_ListFindAndReadWholeOutputs()
    {
        var ct = TestContext.Current.CancellationToken;
        using var fixture = new RunFixture();
        using var runtime = fixture.Runtime;
        var run = await runtime.Run(Root, 3000, fixture.Options());
        Assert.Equal(3001, await run.GetOutputAsync(ct));
        var history = runtime.Runs;

        Assert.Equal(Path.GetFullPath(fixture.Config.EffectiveRunDatabase), history.DatabasePath);
        Assert.Equal(run.Name, Assert.Single(history.List()).Name);
        var actions = history.Actions(run.Name, previewOnly: true);
        var child = Assert.Single(actions, a => a.Task == "history_child");
        Assert.True(child.OutputsLength > child.OutputsJson!.Length); // a preview of the 3,002-character JSON string
        Assert.Equal("3001", await ReadAsync(await history.OpenOutputAsync(run.Name, cancellationToken: ct)));
        Assert.Equal($"\"{new string('x', 3000)}\"", await ReadAsync(await history.OpenOutputAsync(run.Name, child.Id, ct)));
        Assert.Null(await history.OpenOutputAsync(run.Name, "no-such-action", ct));
        Assert.Null(await history.OpenOutputAsync("no-such-run", cancellationToken: ct));
        Assert.True(history.HasAction(run.Name, child.Id));
        Assert.False(history.HasAction(run.Name, "no-such-action"));
        Assert.Null(history.Find("no-such-run"));
        Assert.False(history.RequestCancel(run.Name)); // it has ended
    }

    [Fact]
    public async Task StartConsole_ServesTheRunsApiAsRunApiWritesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var fixture = new RunFixture();
        using var runtime = fixture.Runtime;
        var run = await runtime.Run(Root, 2, fixture.Options());
        await run.GetOutputAsync(ct);

        await using var server = runtime.StartConsole(FreePort());
        using var http = new HttpClient();
        var served = await http.GetStringAsync($"{server.BaseUrl}/api/runs/{run.Name}", ct);

        var history = runtime.Runs;
        var record = history.Find(run.Name, previewOnly: true)!;
        var written = JsonConvention.Serialize(new
        {
            run = RunApi.Run(record),
            actions = history.Actions(run.Name, previewOnly: true).Select(a => RunApi.Action(run.Name, a)),
        });
        Assert.Equal(served, written);
        Assert.Equal("succeeded", JsonNode.Parse(served)!["run"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public void RunText_Values_AreWrittenAsTheConsoleAndCliShowThem()
    {
        Assert.Equal("timed_out", RunText.Status(ActionStatus.TimedOut));
        Assert.Equal("timedOut", RunText.ApiName(ActionStatus.TimedOut));
        Assert.Equal("cancelled", RunText.Status(RunStatus.Cancelled));
        Assert.Equal(["412 ms", "3.25 s", "1:02:03", ""], new TimeSpan?[] { TimeSpan.FromMilliseconds(412), TimeSpan.FromSeconds(3.25), new TimeSpan(1, 2, 3), null }.Select(RunText.Duration));
        Assert.Equal(["512 B", "1.5 KiB", "12 MiB"], new long[] { 512, 1536, 12 * 1024 * 1024 }.Select(RunText.Size));
        Assert.Equal("2026-11-27 09:41:44 UTC", RunText.Time(new DateTimeOffset(2026, 11, 27, 10, 41, 44, TimeSpan.FromHours(1))));
    }

    private static async Task<string> ReadAsync(Stream? stream)
    {
        Assert.NotNull(stream);
        await using (stream)
        {
            using var reader = new StreamReader(stream);
            return await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
