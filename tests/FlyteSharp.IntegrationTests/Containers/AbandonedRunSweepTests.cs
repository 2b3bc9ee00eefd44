using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.IntegrationTests.Runs;
using FlyteSharp.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>
/// A container-mode run whose driver is killed with SIGKILL leaves its action's container running; the sweep finds the
/// run abandoned and stops and removes that container (real podman, real registry, the CLI in a child process).
/// </summary>
public class AbandonedRunSweepTests(RunsProjectFixture fixture, DistributionRegistry registry, BaseImage baseImage) : IClassFixture<RunsProjectFixture>
{
    private readonly BaseImage _baseImage = baseImage;

    /// <summary>One repository for both cases: the second finds the image the first built (tags are content addresses).</summary>
    private static readonly string Repository = "flytesharp-test/sweep" + Guid.NewGuid().ToString("n")[..8];

    [Theory]
    [InlineData("gc")]
    [InlineData("next-run")]
    public async Task DriverKilled_SweepStopsAndRemovesItsContainer(string sweep)
    {
        var ct = TestContext.Current.CancellationToken;
        var id = Guid.NewGuid().ToString("n")[..8];
        var name = $"killed-{sweep}-{id}";
        var home = Path.Combine(fixture.Temp, "home-" + id);
        var config = Path.Combine(fixture.Temp, $"container-{id}.toml");
        await File.WriteAllTextAsync(config, $"""
            home = "{home}"
            root_dir = "{fixture.RootDir}"
            [images]
            registry = "{registry.Host}"
            name = "{Repository}"
            python_base = "{BaseImage.Reference}"
            builder = "podman"
            insecure_registries = ["{registry.Host}"]
            [runs]
            database = "{Path.Combine(home, "runs.db")}"
            mode = "container"
            sandbox_max_age = "0"
            """, ct);

        using var driver = fixture.StartCli("run", fixture.ProjectDir, "slow_pipeline", "--no-build", "--config", config, "--input", "seconds=600", "--name", name);
        try
        {
            // The first case builds and pushes the image: give a loaded machine time.
            var deadline = DateTime.UtcNow.AddMinutes(15);
            while ((await RunningContainersAsync(name)).Count == 0)
            {
                if (driver.HasExited)
                {
                    Assert.Fail("the run ended before its container started:\n" + await driver.StandardOutput.ReadToEndAsync(ct) + await driver.StandardError.ReadToEndAsync(ct));
                }

                Assert.True(DateTime.UtcNow < deadline, "the run's container did not start in time");
                await Task.Delay(200, ct);
            }
        }
        catch
        {
            driver.Kill(entireProcessTree: true);
            throw;
        }

        try
        {
            driver.Kill(entireProcessTree: false); // SIGKILL to the driver alone, as `kill -9 <pid>`
            await driver.WaitForExitAsync(ct);
            await Task.Delay(1000, ct);
            Assert.NotEmpty(await RunningContainersAsync(name)); // the leak: nobody stopped it

            if (sweep == "gc")
            {
                var (code, stdout, stderr) = await fixture.CliAsync("runs", "gc", "--config", config);
                Assert.True(code == 0, stdout + stderr);
                Assert.Contains($"abandoned  {name}", stdout);
                Assert.Contains("removed    container podman:", stdout);
                Assert.Contains($"({name})", stdout);
            }
            else
            {
                // Any later run sweeps at its start: a quick C# run with the same settings.
                var (code, stdout, stderr) = await fixture.CliAsync("run", fixture.ProjectDir, "square", "--no-build", "--config", config, "--input", "x=3");
                Assert.True(code == 0, stdout + stderr);
            }

            Assert.Empty(await AllContainersAsync(name));
            var store = RunStore.Open(Path.Combine(home, "runs.db"));
            var run = store.GetRun(name)!;
            Assert.Equal(RunStatus.Abandoned, run.Status);
            Assert.False(Directory.Exists(Path.Combine(home, "sandboxes")) && Directory.GetDirectories(Path.Combine(home, "sandboxes"), name + ".*").Length > 0,
                "the killed run's sandbox is removed (sandbox_max_age = 0)");
        }
        finally
        {
            // Whatever happened above, this test's containers do not outlive it.
            foreach (var container in await AllContainersAsync(name))
            {
                await Podman.RunAsync("rm", "--force", "--time", "0", container);
            }
        }

        SqliteConnection.ClearAllPools();
    }

    private static async Task<IReadOnlyList<string>> RunningContainersAsync(string run) =>
        Lines((await Podman.RunAsync("ps", "--filter", $"label=flytesharp.run={run}", "--filter", "status=running", "--format", "{{.ID}}")).Output);

    private static async Task<IReadOnlyList<string>> AllContainersAsync(string run) =>
        Lines((await Podman.RunAsync("ps", "--all", "--filter", $"label=flytesharp.run={run}", "--format", "{{.ID}}")).Output);

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
