using System.Diagnostics;
using System.Text.Json;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Sandboxes;
using FlyteSharp.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Execution.Sandboxes;

/// <summary>The sweep over real directories, a real run store and real (ended) processes.</summary>
public class SandboxSweeperTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));

    public SandboxSweeperTests()
    {
        Config = new FlyteConfig { Home = _home, RunDatabase = Path.Combine(_home, "runs.db") };
    }

    private FlyteConfig Config { get; }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task Sweep_OwnerGoneAndOldEnough_RemovesSandbox()
    {
        var sandbox = DeadOwnersSandbox("killed-run");

        var report = await SweepAsync(TimeSpan.Zero);

        Assert.False(Directory.Exists(sandbox));
        Assert.Equal([sandbox], report.RemovedSandboxes);
    }

    [Fact]
    public async Task Sweep_OwnerGoneButYoungerThanMaxAge_KeepsSandbox()
    {
        var sandbox = DeadOwnersSandbox("killed-run");

        var report = await SweepAsync(TimeSpan.FromHours(1));

        Assert.True(Directory.Exists(sandbox));
        Assert.Empty(report.RemovedSandboxes);
        Assert.Equal(1, report.KeptSandboxes);
    }

    [Fact]
    public async Task Sweep_OwnerAlive_KeepsSandboxWhateverItsAge()
    {
        var sandbox = RunSandbox.Create(_home, "live-run", DateTimeOffset.UtcNow.AddDays(-30));

        var report = await SweepAsync(TimeSpan.Zero);

        Assert.True(File.Exists(Path.Combine(sandbox, RunSandbox.OwnerFileName)));
        Assert.Empty(report.RemovedSandboxes);
    }

    [Fact]
    public async Task Sweep_FreshSandboxWithoutOwnerFile_IsKeptEvenAtMaxAgeZero()
    {
        // The moment between a starting run's mkdir and its owner file.
        var sandbox = Directory.CreateDirectory(Path.Combine(RunSandbox.Root(_home), "starting.0000")).FullName;

        await SweepAsync(TimeSpan.Zero);

        Assert.True(Directory.Exists(sandbox));
    }

    [Fact]
    public async Task Sweep_RunOfGoneOwner_IsMarkedAbandonedAndReported()
    {
        var store = RunStore.Open(Config.EffectiveRunDatabase);
        using (var connection = store.Connect())
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = $"""
                INSERT INTO runs(name,task,environment,status,url,mode,created_at,owner_host,owner_pid,owner_start,heartbeat_at)
                VALUES('gone','t','e','running','u','container','2026-01-01T00:00:00.0000000Z','{RunStore.Self.Host}',{DeadProcess().Pid},1,'2026-01-01T00:00:09.0000000Z')
                """;
            insert.ExecuteNonQuery();
        }

        var report = await SweepAsync(TimeSpan.FromHours(1));

        Assert.Equal(["gone"], report.AbandonedRuns);
        Assert.Equal(RunStatus.Abandoned, store.GetRun("gone")!.Status);
    }

    [Fact]
    public async Task Sweep_TwoSandboxesOfOneRunName_RemovesOnlyTheGoneOwnersOne()
    {
        var dead = DeadOwnersSandbox("same-name");
        var live = RunSandbox.Create(_home, "same-name", DateTimeOffset.UtcNow);

        await SweepAsync(TimeSpan.Zero);

        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(live));
    }

    [Fact]
    public async Task Sweep_AllContainers_RemovesSharedReplicaFolderWhoseContainerIsGone()
    {
        // A Global replica's folder left by a driver that died: its container was removed, its spill files and the
        // hard-linked controller socket stayed under the home.
        var name = "flytesharp-gone-" + Guid.NewGuid().ToString("n")[..8];
        var orphan = ReplicaFolder(name, DateTime.UtcNow.AddMinutes(-5));
        var credentials = CredentialsFile(name, DateTime.UtcNow.AddMinutes(-5));

        var report = await SandboxSweeper.SweepAsync(Config, RunStore.Open(Config.EffectiveRunDatabase), TimeSpan.FromDays(1), budget: null, allContainers: true,
            TestContext.Current.CancellationToken);

        Assert.False(Directory.Exists(orphan));
        Assert.Contains(orphan, report.RemovedSandboxes);
        Assert.False(File.Exists(credentials));
        Assert.Contains(credentials, report.RemovedSandboxes);
    }

    [Fact]
    public async Task Sweep_AllContainers_KeepsReplicaFolderOfExistingContainerAndFreshOnes()
    {
        var name = "flytesharp-live-" + Guid.NewGuid().ToString("n")[..8];
        var created = await FlyteSharp.Processes.CliProcess.RunAsync("podman", ["create", "--name", name, "localhost/flytesharp-test/debian-python:bookworm", "true"],
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(created.Succeeded, created.Combined);
        try
        {
            var live = ReplicaFolder(name, DateTime.UtcNow.AddHours(-5));
            var liveCredentials = CredentialsFile(name, DateTime.UtcNow.AddHours(-5));
            var starting = "flytesharp-starting-" + Guid.NewGuid().ToString("n")[..8];
            var startingFolder = ReplicaFolder(starting, DateTime.UtcNow);
            var startingCredentials = CredentialsFile(starting, DateTime.UtcNow);

            await SandboxSweeper.SweepAsync(Config, RunStore.Open(Config.EffectiveRunDatabase), TimeSpan.FromDays(1), budget: null, allContainers: true,
                TestContext.Current.CancellationToken);

            Assert.True(File.Exists(Path.Combine(live, "a.inputs.json")));
            Assert.True(File.Exists(liveCredentials));
            Assert.True(Directory.Exists(startingFolder));
            Assert.True(File.Exists(startingCredentials));
        }
        finally
        {
            await FlyteSharp.Processes.CliProcess.RunAsync("podman", ["rm", "--force", name], cancellationToken: CancellationToken.None);
        }
    }

    private string CredentialsFile(string container, DateTime lastWrite)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_home, "replica-credentials")).FullName;
        var file = Path.Combine(folder, container + ".json");
        File.WriteAllText(file, "{\"authorization\": \"Basic c2VjcmV0\"}");
        File.SetLastWriteTimeUtc(file, lastWrite);
        return file;
    }

    private string ReplicaFolder(string name, DateTime lastWrite)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_home, "replicas", name)).FullName;
        File.WriteAllText(Path.Combine(folder, "a.inputs.json"), "{\"secret_input\": 1}");
        Directory.SetLastWriteTimeUtc(folder, lastWrite);
        return folder;
    }

    private Task<SweepReport> SweepAsync(TimeSpan maxAge) =>
        SandboxSweeper.SweepAsync(Config, RunStore.Open(Config.EffectiveRunDatabase), maxAge, budget: null, allContainers: false, TestContext.Current.CancellationToken);

    /// <summary>A sandbox whose owner file names a process that has ended.</summary>
    private string DeadOwnersSandbox(string run)
    {
        var (pid, start) = DeadProcess();
        var sandbox = Path.Combine(RunSandbox.Root(_home), run + ".dead" + pid);
        Directory.CreateDirectory(Path.Combine(sandbox, "bundle"));
        File.WriteAllText(Path.Combine(sandbox, "bundle", "task.py"), "x = 1\n");
        File.WriteAllText(Path.Combine(sandbox, RunSandbox.OwnerFileName), JsonSerializer.Serialize(new
        {
            run,
            host = RunStore.Self.Host,
            pid,
            start,
            created_at = DateTimeOffset.UtcNow.AddMinutes(-5),
        }));
        return sandbox;
    }

    internal static (int Pid, long Start) DeadProcess()
    {
        using var process = Process.Start(new ProcessStartInfo("sleep", "0.2") { UseShellExecute = false })!;
        var start = process.StartTime.ToUniversalTime().Ticks;
        process.WaitForExit();
        return (process.Id, start);
    }
}
