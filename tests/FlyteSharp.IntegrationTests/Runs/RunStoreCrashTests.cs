using FlyteSharp.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.IntegrationTests.Runs;

public class RunStoreCrashTests(RunsProjectFixture fixture) : IClassFixture<RunsProjectFixture>
{
    [Fact]
    public async Task KillProcessMidRun_StoreStaysReadableAndRunIsAbandoned()
    {
        var name = "crash-" + Guid.NewGuid().ToString("n")[..8];
        using var process = fixture.StartCli("run", fixture.ProjectDir, "slow_pipeline", "--no-build", "--config", fixture.ConfigFile,
            "--input", "seconds=600", "--name", name);
        var store = RunStore.Open(fixture.Database);

        // Wait until the quick children are recorded and the long Python child is running (its output captured).
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            if (process.HasExited)
            {
                Assert.Fail("the run ended before it could be killed: " + await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
            }

            var actions = store.GetRun(name) is null ? [] : store.GetActions(name);
            if (actions.Any(a => a.Task == "fixture.slow:nap" && a.Status == ActionStatus.Running) && actions.Count(a => a.Task == "square" && a.Status == ActionStatus.Succeeded) == 3)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the run did not reach the long child in time");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Equal(RunStatus.Running, store.GetRun(name)!.Status); // owner alive: still running
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        var run = store.GetRun(name)!;
        Assert.Equal(RunStatus.Abandoned, run.Status);
        Assert.Contains("is gone", run.Error!.Message);
        var after = store.GetActions(name);
        Assert.Equal(3, after.Count(a => a.Task == "square" && a.Status == ActionStatus.Succeeded));
        Assert.Equal(ActionStatus.Abandoned, after.Single(a => a.Task == "fixture.slow:nap").Status);
        Assert.Equal(ActionStatus.Abandoned, after.Single(a => a.Task == "slow_pipeline").Status);
        using (var connection = store.Connect())
        using (var check = connection.CreateCommand())
        {
            check.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", check.ExecuteScalar());
        }

        var (code, output, _) = await fixture.CliAsync("runs", "show", name, "--config", fixture.ConfigFile);
        Assert.Equal(0, code);
        Assert.Contains("status   abandoned", output);
        SqliteConnection.ClearAllPools();
    }
}
