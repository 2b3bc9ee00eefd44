using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Runs;

/// <summary>`runs logs --follow` and `runs abort` against a run that stays running until the test says otherwise.</summary>
public class RunsFollowAbortTests(RunsProjectFixture fixture) : IClassFixture<RunsProjectFixture>
{
    private (Run<string> Run, string Gate) StartGated()
    {
        var config = FlyteConfig.Load(fixture.ConfigFile);
        var gate = Path.Combine(fixture.Temp, "gate-" + Guid.NewGuid().ToString("n"));
        var env = new TaskEnvironment("follow", Image.FromDebianBase());
        var wait = env.PythonTask<string, string>("fixture.gate:wait_for");
        var nap = env.PythonTask<int, double>("fixture.slow:nap");
        var pipeline = env.Task("gated", async (string path) =>
        {
            await nap.InvokeAsync(0);
            return await wait.InvokeAsync(path);
        });
        var run = new FlyteRuntime(config).Run(pipeline, gate, new RunOptions { CancellationToken = TestContext.Current.CancellationToken }).GetAwaiter().GetResult();
        return (run, gate);
    }

    [Fact]
    public async Task LogsFollow_RunningRun_PrintsLinesAsTheyComeAndEndsWhenTheRunEnds()
    {
        var ct = TestContext.Current.CancellationToken;
        var (run, gate) = StartGated();

        var follow = fixture.CliAsync("runs", "logs", run.Name, "--follow", "--config", fixture.ConfigFile);
        var started = DateTime.UtcNow;
        while (!(await run.GetLogsAsync(cancellationToken: ct)).Any(l => l.Text.Contains("napping", StringComparison.Ordinal)))
        {
            await Task.Delay(100, ct);
        }

        await Task.Delay(1000, ct);
        Assert.False(follow.IsCompleted, "--follow ended while the run was still running");
        await File.WriteAllTextAsync(gate, "", ct);
        var (code, output, error) = await follow.WaitAsync(TimeSpan.FromSeconds(60), ct);

        Assert.Equal(0, code);
        Assert.Contains("[fixture.slow:nap ", output);
        Assert.Contains("napping 0", output);
        Assert.Contains("gate opened", output);
        Assert.Contains($"run {run.Name} succeeded", error);
        Assert.Equal(RunStatus.Succeeded, await run.WaitAsync(ct));
        Assert.True(DateTime.UtcNow - started > TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Abort_RunningRun_CancelledAndRecordedCancelledAndTheInterpreterStopped()
    {
        var ct = TestContext.Current.CancellationToken;
        var (run, _) = StartGated();
        while (!(await run.GetActionsAsync(ct)).Any(a => a.Task == "fixture.gate:wait_for" && a.Host is not null))
        {
            await Task.Delay(100, ct);
        }

        var host = (await run.GetActionsAsync(ct)).Single(a => a.Task == "fixture.gate:wait_for").Host!;
        var pid = int.Parse(host[(host.LastIndexOf("pid ", StringComparison.Ordinal) + 4)..].TrimEnd(')'), System.Globalization.CultureInfo.InvariantCulture);

        var (code, output, error) = await fixture.CliAsync("runs", "abort", run.Name, "--config", fixture.ConfigFile);

        Assert.True(code == 0, error);
        Assert.Contains($"run {run.Name} cancelled", output);
        Assert.Equal(RunStatus.Cancelled, await run.WaitAsync(ct));
        var store = RunStore.Open(fixture.Database);
        Assert.Equal(RunStatus.Cancelled, store.GetRun(run.Name)!.Status);
        Assert.Equal(ActionStatus.Cancelled, store.GetActions(run.Name).Single(a => a.Task == "fixture.gate:wait_for").Status);
        Assert.True(ProcessGone(pid), $"the interpreter (pid {pid}) of the cancelled action still runs");

        var again = await fixture.CliAsync("runs", "abort", run.Name, "--config", fixture.ConfigFile);
        Assert.Equal(1, again.Code);
        Assert.Contains("is not running (it is cancelled)", again.Err);
    }

    [Fact]
    public async Task Run_NotATerminal_PrintsPlainProgressLinesWithoutEscapeCodes()
    {
        var (code, output, error) = await fixture.CliAsync("run", fixture.ProjectDir, "fan_out", "--no-build", "--config", fixture.ConfigFile, "--input", "n=12");

        Assert.True(code == 0, error);
        Assert.DoesNotContain('\u001b', output);
        Assert.Contains("started   fan_out [", output);
        // Each square's end is a line of its own, or counted in a summary line of a snapshot with many.
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var squares = lines.Where(l => l.StartsWith("succeeded square [", StringComparison.Ordinal)).Count()
            + lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, "^succeeded (\\d+) × square$")).Where(m => m.Success).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(12, squares);
        Assert.Contains("succeeded fan_out [", output);
        Assert.Contains("console: http://localhost:", output);
    }

    private static bool ProcessGone(int pid)
    {
        for (var i = 0; i < 150; i++)
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                if (process.HasExited)
                {
                    return true;
                }
            }
            catch (ArgumentException)
            {
                return true;
            }

            Thread.Sleep(100);
        }

        return false;
    }
}
