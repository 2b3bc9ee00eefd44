using FlyteSharp.Configuration;
using FlyteSharp.Storage;

namespace FlyteSharp.Tests.Storage;

public class BlobStoresTests
{
    [Fact]
    public void Open_FileUri_ReturnsFileStore()
    {
        var store = BlobStores.Open("file:///tmp/flytesharp-store-test", new FlyteConfig());
        Assert.Equal("file:///tmp/flytesharp-store-test", store.Uri);
    }

    [Fact]
    public void Open_AbsolutePath_IsTakenAsFileStore()
    {
        Assert.StartsWith("file:///", BlobStores.Open("/tmp/some-store", new FlyteConfig()).Uri);
    }

    [Fact]
    public void Open_OciUri_ReturnsOciStoreWithHostAndRepository()
    {
        var store = BlobStores.Open("oci://127.0.0.1:5000/flytesharp/bundles", new FlyteConfig());
        Assert.Equal("oci://127.0.0.1:5000/flytesharp/bundles", store.Uri);
        Assert.Equal("oci://127.0.0.1:5000/flytesharp/bundles@sha256:" + new string('a', 64), store.BlobUri("sha256:" + new string('a', 64)));
        (store as IDisposable)?.Dispose();
    }

    [Theory]
    [InlineData("s3://bucket/prefix")]
    [InlineData("ftp://host/x")]
    [InlineData("relative/dir")]
    public void Open_UnknownScheme_ThrowsClearError(string uri)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => BlobStores.Open(uri, new FlyteConfig()));
        Assert.Contains("unknown store URI scheme", ex.Reason);
        Assert.Contains("oci://", ex.Fix);
    }

    [Theory]
    [InlineData("oci://host:5000")]
    [InlineData("oci://host:5000/UPPER")]
    [InlineData("oci:///repo")]
    public void Open_MalformedOciUri_Throws(string uri)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => BlobStores.Open(uri, new FlyteConfig()));
        Assert.Contains("not an OCI store URI", ex.Reason);
    }

    [Fact]
    public void ParseBlobUri_OciAndFile_SplitsStoreAndDigest()
    {
        var digest = "sha256:" + new string('e', 64);
        Assert.Equal(("oci://h:1/r/s", digest), BlobStores.ParseBlobUri($"oci://h:1/r/s@{digest}"));
        Assert.Equal(("file:///st", digest), BlobStores.ParseBlobUri($"file:///st/blobs/sha256/{new string('e', 64)}"));
        Assert.Throws<FlyteSharpException>(() => BlobStores.ParseBlobUri("oci://h/r@sha256:short"));
        Assert.Throws<FlyteSharpException>(() => BlobStores.ParseBlobUri("file:///st/other/file"));
    }
}
