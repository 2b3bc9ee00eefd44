using FlyteSharp.Configuration;
using FlyteSharp.Deploy;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Tasks;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Deploy;

/// <summary>Runs of deployed versions refused before anything runs, and the C# code a version recorded.</summary>
public sealed class DeployedRunsTests : IDisposable
{
    private readonly TempTree _tree = new("flytesharp-deployed-runs-");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _tree.Dispose();
    }

    private FlyteConfig Config => new() { Home = _tree.PathOf("home"), RunDatabase = _tree.PathOf("home/runs.db"), Registry = "127.0.0.1:1" };

    private static readonly TaskEnvironment Env = new("dotnet", Image.FromDotnetBase("10.0"));

    private static readonly FlyteTask<int, int> Double = Env.Task("double", (int n) => Task.FromResult(n * 2));

    private void Record(string version, params DeployedTask[] tasks) => DeploymentStore.Open(Config.EffectiveRunDatabase).Record(new Deployment(
        version, "dotnet", "127.0.0.1:1/flytesharp:" + version, CopyStyle.None, tasks, new Resources(), "dotnet /opt/flytesharp/worker/flytesharp-worker.dll", null,
        DateTimeOffset.UnixEpoch.AddDays(version.Length)));

    [Fact]
    public async Task Run_UnknownVersion_FailsBeforeAnythingRunsListingTheDeployedVersions()
    {
        Record("1.0.0");
        Record("1.0.10");
        using var runtime = new FlyteRuntime(Config);

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => runtime.Run(Double, 21, new RunOptions { Version = "2.0.0", CancellationToken = TestContext.Current.CancellationToken }));

        Assert.Contains("no deployment is recorded under version '2.0.0'", error.Message, StringComparison.Ordinal);
        Assert.Contains("deployed versions, newest first: 1.0.10, 1.0.0", error.Message, StringComparison.Ordinal);
        var sandboxes = Path.Combine(Config.Home, "sandboxes");
        Assert.True(!Directory.Exists(sandboxes) || !Directory.EnumerateFileSystemEntries(sandboxes).Any(), "a refused run made a sandbox");
    }

    [Fact]
    public async Task Run_VersionInLocalMode_IsRefusedNamingTheMode()
    {
        Record("1.0.0");
        using var runtime = new FlyteRuntime(Config);

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => runtime.Run(Double, 21,
            new RunOptions { Version = "1.0.0", Mode = ExecutionMode.Local, CancellationToken = TestContext.Current.CancellationToken }));

        Assert.Contains("runs in the images recorded under version 1.0.0, so it cannot run in local mode", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_VersionWithPythonTasksInKubernetesMode_IsRefusedBeforeAnyPod()
    {
        var env = new TaskEnvironment("py", Image.FromDebianBase("3.11").WithCodeBundle());
        var triple = env.PythonTask<int, int>("app.ops:triple");
        DeploymentStore.Open(Config.EffectiveRunDatabase).Record(new Deployment("1.0.0", "py", "127.0.0.1:1/flytesharp:py", CopyStyle.None,
            [new DeployedTask("app.ops:triple", TaskKind.Python, "app.ops:triple")], new Resources(), "python3 /opt/flytesharp/flytesharp_runner.py --bundle-dir /root", "/root",
            DateTimeOffset.UnixEpoch));
        using var runtime = new FlyteRuntime(Config);

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => runtime.Run(triple, 2,
            new RunOptions { Version = "1.0.0", Mode = ExecutionMode.Kubernetes, CancellationToken = TestContext.Current.CancellationToken }));

        Assert.Contains("Python tasks of a deployed version do not run as pods yet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodeFor_RecordedBundleOrBakedAssemblies_AreWhatTheWorkerGets()
    {
        var ct = TestContext.Current.CancellationToken;
        var digest = "sha256:" + new string('b', 64);
        Record("bundled", new DeployedTask("double", TaskKind.CSharp, null) { Assembly = "App.dll", BundleDigest = digest, BundleUri = "oci://r/x@" + digest });
        Record("baked", new DeployedTask("double", TaskKind.CSharp, null) { Assembly = "App.dll" });

        var bundled = await DeployedRuns.Open(Config, "bundled").DotnetCode.CodeForAsync(Double, ct);
        var baked = await DeployedRuns.Open(Config, "baked").DotnetCode.CodeForAsync(Double, ct);

        Assert.Equal(("App.dll", digest, "oci://r/x@" + digest, false), (bundled.AssemblyFile, bundled.BundleDigest, bundled.BundleUri, bundled.InImage));
        Assert.Equal(("App.dll", (string?)null, true), (baked.AssemblyFile, baked.BundleDigest, baked.InImage));
        Assert.Contains("/opt/flytesharp/app/App.dll", baked.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodeFor_TaskTheVersionDoesNotHave_NamesTheDeployedTasks()
    {
        Record("1.0.0", new DeployedTask("triple", TaskKind.CSharp, null) { Assembly = "App.dll" });

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => DeployedRuns.Open(Config, "1.0.0").DotnetCode.CodeForAsync(Double, TestContext.Current.CancellationToken));

        Assert.Contains("version 1.0.0 of environment 'dotnet' has no C# task 'double' (deployed C# tasks: triple)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureSameCode_SameVersionWithAnotherBundle_IsRefused()
    {
        Record("1.0.0", new DeployedTask("double", TaskKind.CSharp, null) { Assembly = "App.dll", BundleDigest = "sha256:" + new string('1', 64) });
        var existing = DeploymentStore.Open(Config.EffectiveRunDatabase).Get("1.0.0")[0];

        var error = Assert.Throws<FlyteSharpException>(() => DeployedDotnetTasks.EnsureSameCode(existing,
            [new DeployedTask("double", TaskKind.CSharp, null) { Assembly = "App.dll", BundleDigest = "sha256:" + new string('2', 64) }]));
        DeployedDotnetTasks.EnsureSameCode(existing, existing.Tasks);

        Assert.Contains("already deployed with task 'double' from .NET bundle sha256:1111", error.Message, StringComparison.Ordinal);
        Assert.Contains("this deploy would make it .NET bundle sha256:2222", error.Message, StringComparison.Ordinal);
        Assert.Contains("new version", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodeFor_StoredBundleGoneFromAFileStore_SaysSoBeforeAnyContainer()
    {
        var digest = "sha256:" + new string('c', 64);
        var blob = _tree.PathOf("store/blobs/sha256/" + new string('c', 64));
        Record("1.0.0", new DeployedTask("double", TaskKind.CSharp, null) { Assembly = "App.dll", BundleDigest = digest, BundleUri = new Uri(blob).AbsoluteUri });

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => DeployedRuns.Open(Config, "1.0.0").DotnetCode.CodeForAsync(Double, TestContext.Current.CancellationToken));

        Assert.Contains($"the .NET bundle {digest} of C# task 'double' (version 1.0.0) is no longer in the store", error.Message, StringComparison.Ordinal);
        Assert.Equal(blob, error.File);
    }
}
