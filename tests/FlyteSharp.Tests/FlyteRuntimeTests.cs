using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Storage;
using FlyteSharp.Tasks;
using FlyteSharp.Tests.Execution;

namespace FlyteSharp.Tests;

public class FlyteRuntimeTests
{
    [Fact]
    public async Task Run_TwoRuntimesWithDifferentHomesConcurrently_EachRunLandsInItsOwnStore()
    {
        var ct = TestContext.Current.CancellationToken;
        using var a = new RunFixture();
        using var b = new RunFixture();
        a.WritePython("app/who.py", "def who() -> str:\n    return 'A'\n");
        b.WritePython("app/who.py", "def who() -> str:\n    return 'B'\n");
        var env = new TaskEnvironment("who", Image.FromDebianBase());
        var who = env.PythonTask<string>("app.who:who");
        var root = env.Task("ask", async () => await who.InvokeAsync() + "!");
        using var runtimeA = a.Runtime;
        using var runtimeB = b.Runtime;

        var runs = await Task.WhenAll(runtimeA.Run(root, a.Options()), runtimeB.Run(root, b.Options()));
        var outputs = await Task.WhenAll(runs.Select(r => r.GetOutputAsync(ct)));

        Assert.Equal(["A!", "B!"], outputs);
        var storeA = RunStore.Open(a.Config.EffectiveRunDatabase);
        var storeB = RunStore.Open(b.Config.EffectiveRunDatabase);
        Assert.NotNull(storeA.GetRun(runs[0].Name));
        Assert.Null(storeA.GetRun(runs[1].Name));
        Assert.NotNull(storeB.GetRun(runs[1].Name));
        Assert.Null(storeB.GetRun(runs[0].Name));
        Assert.NotEqual(runs[0].BundleDigest, runs[1].BundleDigest);
        await using var blobsA = BlobStores.Open(a.Config.EffectiveStoreUri, a.Config);
        await using var blobsB = BlobStores.Open(b.Config.EffectiveStoreUri, b.Config);
        Assert.True(await blobsA.ExistsAsync(runs[0].BundleDigest!, ct));
        Assert.False(await blobsB.ExistsAsync(runs[0].BundleDigest!, ct));
    }

    [Fact]
    public async Task Run_DisposedRuntime_RefusesNewRuns()
    {
        using var fixture = new RunFixture();
        var env = new TaskEnvironment("disposed", Image.FromDebianBase());
        var one = env.Task("one", () => Task.FromResult(1));
        var runtime = fixture.Runtime;
        runtime.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => runtime.Run(one, fixture.Options()));
    }

    [Fact]
    public void FromConfig_MissingRootDir_RefusesWithPath()
    {
        var missing = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));

        var ex = Assert.Throws<FlyteSharpException>(() => FlyteRuntime.FromConfig(missing, new FlyteSharp.Configuration.FlyteConfig()));

        Assert.Equal(missing, ex.File);
    }
}
