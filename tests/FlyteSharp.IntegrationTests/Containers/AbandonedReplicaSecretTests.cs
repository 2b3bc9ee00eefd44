using System.Diagnostics;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.IntegrationTests.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>
/// A driver killed with SIGKILL while a reusable replica holds a secret leaves the secret's file on tmpfs
/// (<c>/dev/shm</c>); <c>flytesharp runs gc</c> removes it with the replica (real podman, registry, the CLI in a child process).
/// </summary>
public class AbandonedReplicaSecretTests(RunsProjectFixture fixture, DistributionRegistry registry, BaseImage baseImage) : IClassFixture<RunsProjectFixture>
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task DriverKilled_Gc_RemovesTheReplicasSecretFiles()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = Guid.NewGuid().ToString("n")[..8];
        var name = $"killed-secret-{id}";
        var secretValue = "s3cr3t-" + Guid.NewGuid().ToString("n");
        var home = Path.Combine(fixture.Temp, "home-" + id);
        var config = Path.Combine(fixture.Temp, $"secret-{id}.toml");
        await File.WriteAllTextAsync(config, $"""
            home = "{home}"
            root_dir = "{fixture.RootDir}"
            [images]
            registry = "{registry.Host}"
            name = "flytesharp-test/sweep-secret{id}"
            python_base = "{BaseImage.Reference}"
            builder = "podman"
            insecure_registries = ["{registry.Host}"]
            [runs]
            database = "{Path.Combine(home, "runs.db")}"
            mode = "container"
            sandbox_max_age = "0"
            """, ct);

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "FlyteSharp.Cli.dll"), "run", fixture.ProjectDir, "fixture.slow:warm_nap",
                     "--no-build", "--config", config, "--input", "seconds=600", "--name", name })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["FLYTESHARP_SECRET_FIXTURE_TOKEN"] = secretValue;
        using var driver = Process.Start(start)!;
        try
        {
            var deadline = DateTime.UtcNow.AddMinutes(15);
            while (SecretFilesHolding(secretValue).Count == 0 || (await ContainersAsync(name)).Count == 0)
            {
                if (driver.HasExited)
                {
                    Assert.Fail("the run ended before its replica started:\n" + await driver.StandardOutput.ReadToEndAsync(ct) + await driver.StandardError.ReadToEndAsync(ct));
                }

                Assert.True(DateTime.UtcNow < deadline, "the replica did not start in time");
                await Task.Delay(200, ct);
            }

            driver.Kill(entireProcessTree: false); // SIGKILL to the driver alone, as `kill -9 <pid>`
            await driver.WaitForExitAsync(ct);
            Assert.NotEmpty(SecretFilesHolding(secretValue)); // the leak: nobody removed it

            var (code, stdout, stderr) = await fixture.CliAsync("runs", "gc", "--config", config);
            Assert.True(code == 0, stdout + stderr);
            Assert.Empty(await ContainersAsync(name));
            // /dev/shm is the machine's: a run starting meanwhile in a test alongside sweeps it too, so gc may find nothing left.
            Assert.Empty(SecretFilesHolding(secretValue));
            Assert.Matches(@"removed    secret files /dev/shm/flytesharp-secrets-\d+-\d+-[0-9a-f]{32}|^(?![\s\S]*secret files)", stdout);
        }
        finally
        {
            if (!driver.HasExited)
            {
                driver.Kill(entireProcessTree: true);
            }

            foreach (var container in await ContainersAsync(name))
            {
                await Podman.RunAsync("rm", "--force", "--time", "0", container);
            }

            foreach (var file in SecretFilesHolding(secretValue))
            {
                Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
            }
        }

        SqliteConnection.ClearAllPools();
    }

    /// <summary>The secret files on this machine's tmpfs whose content is <paramref name="value"/>.</summary>
    private static List<string> SecretFilesHolding(string value) =>
        !Directory.Exists("/dev/shm") ? [] : Directory.GetDirectories("/dev/shm", "flytesharp-secrets-*")
            .SelectMany(d => { try { return Directory.GetFiles(d); } catch (IOException) { return []; } catch (UnauthorizedAccessException) { return []; } })
            .Where(f => { try { return File.ReadAllText(f) == value; } catch (IOException) { return false; } catch (UnauthorizedAccessException) { return false; } })
            .ToList();

    private static async Task<IReadOnlyList<string>> ContainersAsync(string run) =>
        (await Podman.RunAsync("ps", "--all", "--filter", $"label=flytesharp.run={run}", "--format", "{{.ID}}")).Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
