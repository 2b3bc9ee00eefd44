using FlyteSharp.Execution.Containers;

namespace FlyteSharp.Tests.Execution.Containers;

public class ContainerBundleSourceTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void For_BlobInsideFileStore_MountsTheStoreRoot()
    {
        var source = ContainerBundleSource.For("file:///data/store/blobs/sha256/0123", null, Digest, "file:///data/store", []);

        Assert.Equal("/flytesharp/store/blobs/sha256/0123", source.Source);
        Assert.Equal([("/data/store", "/flytesharp/store")], source.Mounts);
        Assert.False(source.HostNetwork);
    }

    [Fact]
    public void For_BlobOutsideConfiguredStore_MountsOnlyThatFile()
    {
        var source = ContainerBundleSource.For("file:///elsewhere/bundle.tar.gz", null, Digest, "file:///data/store", []);

        Assert.Equal("/flytesharp/store/bundle.tar.gz", source.Source);
        Assert.Equal([("/elsewhere/bundle.tar.gz", "/flytesharp/store/bundle.tar.gz")], source.Mounts);
    }

    [Fact]
    public void For_OciStoreOnLoopback_DownloadsBlobOverHttpWithHostNetwork()
    {
        var source = ContainerBundleSource.For("oci://127.0.0.1:5000/flytesharp/bundles", null, Digest, "oci://127.0.0.1:5000/flytesharp/bundles", ["127.0.0.1:5000"]);

        Assert.Equal($"http://127.0.0.1:5000/v2/flytesharp/bundles/blobs/{Digest}", source.Source);
        Assert.Empty(source.Mounts);
        Assert.True(source.HostNetwork);
    }

    [Theory]
    [InlineData("localhost:5000")]
    [InlineData("127.0.0.1:5000")]
    public void For_OciStoreOnLoopbackNotListedInsecure_UsesHttpLikeTheRegistryClient(string host)
    {
        var source = ContainerBundleSource.For($"oci://{host}/team/bundles", null, Digest, $"oci://{host}/team/bundles", []);

        Assert.Equal($"http://{host}/v2/team/bundles/blobs/{Digest}", source.Source);
        Assert.Equal((host, "team/bundles"), source.Registry);
    }

    [Fact]
    public void For_OciStoreRemote_UsesHttpsAndDigestSuffixIsIgnored()
    {
        var source = ContainerBundleSource.For($"oci://ghcr.io/acme/bundles@{Digest}", null, Digest, "oci://ghcr.io/acme/bundles", []);

        Assert.Equal($"https://ghcr.io/v2/acme/bundles/blobs/{Digest}", source.Source);
        Assert.False(source.HostNetwork);
    }

    [Fact]
    public void For_NoStoreUri_MountsLocalArchive()
    {
        var source = ContainerBundleSource.For(null, "/cache/bundles/abc.tar.gz", Digest, "file:///data/store", []);

        Assert.Equal("/flytesharp/store/abc.tar.gz", source.Source);
    }

    [Fact]
    public void For_NothingToRead_ExplainsStoreSetting()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => ContainerBundleSource.For(null, null, Digest, "file:///data/store", []));

        Assert.Contains("storage.uri", ex.Fix);
    }
}
