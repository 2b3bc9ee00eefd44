using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Containers;

namespace FlyteSharp.Tests.Execution.Containers;

public class BuildingImageSourceTests
{
    [Fact]
    public async Task RuntimeAsync_ConcurrentCallers_CreateTheServiceOnce()
    {
        var created = 0;
        var release = new TaskCompletionSource();
        using var probe = new RegistryTagProbe(new FlyteConfig());
        var source = new BuildingImageSource(new FlyteConfig(), async _ =>
        {
            Interlocked.Increment(ref created);
            await release.Task;
            return new ImageBuildService(new PodmanBuilder(), probe, new FlyteConfig(), TimeProvider.System);
        });

        var callers = Enumerable.Range(0, 8).Select(_ => source.RuntimeAsync(TestContext.Current.CancellationToken)).ToList();
        release.SetResult();

        Assert.All(await Task.WhenAll(callers), name => Assert.Equal("podman", name));
        Assert.Equal(1, created);
    }

    [Fact]
    public async Task RuntimeAsync_CreationFailed_NextCallerCreatesAgain()
    {
        var attempts = 0;
        using var probe = new RegistryTagProbe(new FlyteConfig());
        var source = new BuildingImageSource(new FlyteConfig(), _ => ++attempts == 1
            ? Task.FromException<ImageBuildService>(new FlyteSharpException("no builder"))
            : Task.FromResult(new ImageBuildService(new PodmanBuilder(), probe, new FlyteConfig(), TimeProvider.System)));

        await Assert.ThrowsAsync<FlyteSharpException>(() => source.RuntimeAsync(TestContext.Current.CancellationToken));

        Assert.Equal("podman", await source.RuntimeAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, attempts);
    }
}
