using FlyteSharp.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.IntegrationTests.Runs;

public class RunNameConflictTests(RunsProjectFixture fixture) : IClassFixture<RunsProjectFixture>
{
    [Fact]
    public async Task Run_SecondRunWithTheNameOfARunningOne_IsRefusedAndTheFirstFinishes()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = "dup-" + Guid.NewGuid().ToString("n")[..8];
        using var first = fixture.StartCli("run", fixture.ProjectDir, "nap_then_greet", "--no-build", "--config", fixture.ConfigFile,
            "--input", "seconds=30", "--name", name);
        var store = RunStore.Open(fixture.Database);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!(store.GetRun(name) is not null && store.GetActions(name).Any(a => a.Task == "fixture.slow:nap" && a.Status == ActionStatus.Running)))
        {
            if (first.HasExited)
            {
                Assert.Fail("the first run ended before the second started:\n" + await first.StandardOutput.ReadToEndAsync(ct) + await first.StandardError.ReadToEndAsync(ct));
            }

            Assert.True(DateTime.UtcNow < deadline, "the first run did not reach its nap in time");
            await Task.Delay(100, ct);
        }

        var (code, _, error) = await fixture.CliAsync("run", fixture.ProjectDir, "nap_then_greet", "--no-build", "--config", fixture.ConfigFile,
            "--input", "seconds=1", "--name", name);
        var firstOut = first.StandardOutput.ReadToEndAsync(ct);
        var firstErr = first.StandardError.ReadToEndAsync(ct);
        await first.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromMinutes(3), ct);

        Assert.Equal(1, code);
        Assert.Contains($"a run named '{name}' already exists", error);
        Assert.True(first.ExitCode == 0, "the first run failed after the refused duplicate:\n" + await firstOut + await firstErr);
        var run = store.GetRun(name)!;
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal("\"hello from the bundle after 30s\"", run.OutputsJson);
        SqliteConnection.ClearAllPools();
    }
}
