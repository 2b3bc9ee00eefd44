using FlyteSharp.Deploy;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Deploy;

public sealed class DeploymentStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flytesharp-deployments-").FullName;

    private string Database => Path.Combine(_dir, "runs.db");

    private static Deployment Sample(string version, string env, string image, DateTimeOffset at) => new(
        version, env, image, CopyStyle.None,
        [new DeployedTask("app.ops:double", TaskKind.Python, "app.ops:double"), new DeployedTask("pipeline", TaskKind.CSharp, null)],
        new Resources(Cpu: "500m", Memory: "128Mi"), "/opt/venv/bin/python /opt/flytesharp/flytesharp_runner.py --bundle-dir /root", "/root", at);

    [Fact]
    public void Record_ThenGet_RoundTripsEveryField()
    {
        var at = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        var store = DeploymentStore.Open(Database);

        store.Record(Sample("1.2.3", "etl", "localhost:5000/flytesharp:aaa", at));
        var loaded = Assert.Single(DeploymentStore.Open(Database).Get("1.2.3"));

        Assert.Equal(("1.2.3", "etl", "localhost:5000/flytesharp:aaa", CopyStyle.None, "/root", at), (loaded.Version, loaded.Environment, loaded.ImageUri, loaded.CopyStyle, loaded.CodeDirectory, loaded.CreatedAt));
        Assert.Equal(["app.ops:double", "pipeline"], loaded.Tasks.Select(t => t.Name));
        Assert.Null(loaded.Tasks[1].Entry);
        Assert.Equal(("500m", "128Mi"), (loaded.Resources.Cpu, loaded.Resources.Memory));
        Assert.StartsWith("/opt/venv/bin/python", loaded.Entry);
    }

    [Fact]
    public void Record_SameVersionSameImage_IsIdempotent()
    {
        var store = DeploymentStore.Open(Database);
        var d = Sample("1", "etl", "r/i:a", DateTimeOffset.UnixEpoch);

        store.Record(d);
        store.Record(d);

        Assert.Single(store.Get("1"));
    }

    [Fact]
    public void Record_SameVersionOtherImage_RefusesToRebind()
    {
        var store = DeploymentStore.Open(Database);
        store.Record(Sample("1", "etl", "r/i:a", DateTimeOffset.UnixEpoch));

        var ex = Assert.Throws<FlyteSharpException>(() => store.Record(Sample("1", "etl", "r/i:b", DateTimeOffset.UnixEpoch)));

        Assert.Contains("already deployed with image r/i:a", ex.Message);
        Assert.Contains("new version", ex.Fix);
    }

    [Fact]
    public void List_SeveralVersions_NewestFirstAndFilteredByEnvironment()
    {
        var store = DeploymentStore.Open(Database);
        store.Record(Sample("1", "etl", "r/i:a", DateTimeOffset.UnixEpoch));
        store.Record(Sample("2", "etl", "r/i:b", DateTimeOffset.UnixEpoch.AddDays(1)));
        store.Record(Sample("2", "ml", "r/i:c", DateTimeOffset.UnixEpoch.AddDays(1)));

        Assert.Equal(["2", "1"], store.List("etl").Select(d => d.Version));
        Assert.Equal(["etl", "ml"], store.Get("2").Select(d => d.Environment));
        Assert.Empty(store.Get("3"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
