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
    [InlineData("oci://alice:s3cr3t-pw@127.0.0.1:5000/flytesharp/bundles", "127.0.0.1:5000")]
    [InlineData("oci://alice:s3cr3t-pw@registry.example.com/team/bundles", "registry.example.com")]
    [InlineData("oci://s3cr3t-pw@registry.example.com/bundles", "registry.example.com")]
    [InlineData("oci://alice:p@ss@s3cr3t-pw@registry.example.com/bundles", "registry.example.com")]
    [InlineData("s3://alice:s3cr3t-pw@bucket/prefix", "bucket")]
    [InlineData("oci://alice:s3cr3t/pw@127.0.0.1:5000/flytesharp/bundles", "127.0.0.1:5000")]
    [InlineData("oci://alice:s3cr3t#pw@127.0.0.1:5000/flytesharp/bundles", "127.0.0.1:5000")]
    [InlineData("oci://alice:s3cr3t?pw@registry.example.com/bundles", "registry.example.com")]
    public void Open_CredentialsInUri_RefusesPointingAtTheAuthFileWithoutPrintingThem(string uri, string host)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => BlobStores.Open(uri, new FlyteConfig()));

        Assert.Contains("holds credentials", ex.Reason);
        Assert.Contains($"'{uri[..uri.IndexOf(':')]}://***@{host}/", ex.Reason);
        Assert.Contains($"podman login {host}", ex.Fix);
        Assert.Contains("auth.json", ex.Fix);
        Assert.DoesNotContain("s3cr3t-pw", ex.ToString());
        Assert.DoesNotContain("alice", ex.ToString());
    }

    [Fact]
    public void ParseBlobUri_CredentialsInUri_RefusesWithoutPrintingThem()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => BlobStores.ParseBlobUri("oci://alice:s3cr3t-pw@127.0.0.1:5000/repo@sha256:" + new string('a', 64)));

        Assert.Contains("holds credentials", ex.Reason);
        Assert.DoesNotContain("s3cr3t-pw", ex.ToString());
    }

    [Fact]
    public void Open_DigestAfterRepository_IsNotMistakenForCredentials()
    {
        var (store, digest) = BlobStores.ParseBlobUri("oci://127.0.0.1:5000/repo@sha256:" + new string('a', 64));

        Assert.Equal("oci://127.0.0.1:5000/repo", store);
        Assert.Equal("sha256:" + new string('a', 64), digest);
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
    [InlineData("oci://localhost:abc/repo")]
    [InlineData("oci://localhost:99999/repo")]
    [InlineData("oci://bad host/repo")]
    public void Open_MalformedOciUri_Throws(string uri)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => BlobStores.Open(uri, new FlyteConfig()));
        Assert.Contains("not an OCI store URI", ex.Reason);
    }

    [Fact]
    public void ParseBlobUri_CredentialsWithSlashInUri_RefusesWithoutPrintingThem()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => BlobStores.ParseBlobUri("oci://alice:s3cr/3t-pw@127.0.0.1:5000/repo@sha256:" + new string('a', 64)));

        Assert.Contains("holds credentials", ex.Reason);
        Assert.DoesNotContain("3t-pw", ex.ToString());
    }

    [Fact]
    public void Open_FileUriWithAtInPath_IsNotMistakenForCredentials()
    {
        var store = BlobStores.Open("file:///tmp/user@example/store", new FlyteConfig());

        Assert.Equal("file:///tmp/user@example/store", store.Uri);
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
