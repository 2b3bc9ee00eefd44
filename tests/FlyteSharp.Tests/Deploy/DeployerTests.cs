using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Deploy;
using FlyteSharp.Images;
using FlyteSharp.Tasks;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Deploy;

public sealed class DeployerTests : IDisposable
{
    private readonly TempTree _tree = new("flytesharp-deployer-");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _tree.Dispose();
    }

    // A builder program that does not exist (and a registry that has no tag): whatever reaches the build step fails naming
    // that program, so a test can tell a refusal before the build from one after it.
    private FlyteConfig Config => new()
    {
        Home = _tree.PathOf("home"),
        RunDatabase = _tree.PathOf("home/runs.db"),
        Registry = "127.0.0.1:1",
    };

    private (TaskEnvironment Env, string RootDir) Project()
    {
        _tree.Write("src/app/ops.py", "def f() -> int:\n    return 1\n");
        return (new TaskEnvironment("prod", Image.FromDebianBase("3.11").WithCodeBundle()), _tree.PathOf("src"));
    }

    [Fact]
    public async Task Deploy_VersionTakenByAnotherImage_RefusedBeforeAnyBuild()
    {
        var (env, rootDir) = Project();
        DeploymentStore.Open(Config.EffectiveRunDatabase).Record(new Deployment(
            "7", "prod", "127.0.0.1:1/flytesharp:older", CopyStyle.None, [], new Resources(), "entry", "/root", DateTimeOffset.UnixEpoch));

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => Deployer.DeployAsync([env], CopyStyle.None, "7", Config with { RootDir = rootDir },
            cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("version 7 of environment 'prod' is already deployed with image 127.0.0.1:1/flytesharp:older", ex.Message);
        Assert.Single(DeploymentStore.Open(Config.EffectiveRunDatabase).Get("7"));
    }

    [Fact]
    public async Task Deploy_VersionFree_GoesOnToTheBuild()
    {
        var (env, rootDir) = Project();

        var service = new ImageBuildService(new PodmanBuilder("no-builder-may-run"), new NoTags(), Config, TimeProvider.System);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => Deployer.DeployAsync([env], CopyStyle.None, "8", Config with { RootDir = rootDir },
            service, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("no-builder-may-run", ex.Message + ex.File + ex.Fix);
        Assert.Empty(DeploymentStore.Open(Config.EffectiveRunDatabase).Get("8"));
    }

    /// <summary>A registry that has no tag (no registry may be reached from this unit test).</summary>
    private sealed class NoTags : IImageTagProbe
    {
        public Task<bool> ExistsAsync(string registry, string repository, string tag, CancellationToken cancellationToken) => Task.FromResult(false);
    }
}
