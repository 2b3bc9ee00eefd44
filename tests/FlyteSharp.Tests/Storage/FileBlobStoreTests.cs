using System.Security.Cryptography;
using System.Text;
using FlyteSharp.Storage;

namespace FlyteSharp.Tests.Storage;

public class FileBlobStoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (string File, string Digest) Blob(TempTree t, string content)
    {
        var file = t.Write("in-" + Guid.NewGuid().ToString("N"), content);
        return (file, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content))));
    }

    [Fact]
    public async Task PutAsync_NewBlob_StoresByDigestAndGetVerifies()
    {
        using var t = new TempTree();
        var store = new FileBlobStore(t.PathOf("store"));
        var (file, digest) = Blob(t, "bundle bytes");

        var uri = await store.PutAsync(digest, file, Ct);

        Assert.Equal(new Uri(t.PathOf("store/blobs/sha256/" + digest[7..])).AbsoluteUri, uri);
        Assert.True(await store.ExistsAsync(digest, Ct));
        var back = t.PathOf("out/x.tar.gz");
        await store.GetAsync(digest, back, Ct);
        Assert.Equal("bundle bytes", await File.ReadAllTextAsync(back, Ct));
        Assert.Equal((store.Uri.TrimEnd('/'), digest), (BlobStores.ParseBlobUri(uri).StoreUri.TrimEnd('/'), BlobStores.ParseBlobUri(uri).Digest));
    }

    [Fact]
    public async Task PutAsync_ExistingDigest_DoesNotRewrite()
    {
        using var t = new TempTree();
        var store = new FileBlobStore(t.PathOf("store"));
        var (file, digest) = Blob(t, "same");
        await store.PutAsync(digest, file, Ct);
        var path = store.BlobPath(digest);
        var stamp = File.GetLastWriteTimeUtc(path);
        File.Delete(file); // a second put must not even read the source

        await store.PutAsync(digest, file, Ct);

        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public async Task PutAsync_ContentNotMatchingDigest_ThrowsAndLeavesNothing()
    {
        using var t = new TempTree();
        var store = new FileBlobStore(t.PathOf("store"));
        var (file, _) = Blob(t, "actual");
        var (_, otherDigest) = Blob(t, "claimed");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => store.PutAsync(otherDigest, file, Ct));

        Assert.Contains("does not match", ex.Reason);
        Assert.Empty(Directory.EnumerateFiles(t.PathOf("store"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task GetAsync_CorruptedBlobInStore_ThrowsAndDestinationIsNotWritten()
    {
        using var t = new TempTree();
        var store = new FileBlobStore(t.PathOf("store"));
        var (file, digest) = Blob(t, "original");
        await store.PutAsync(digest, file, Ct);
        await File.WriteAllTextAsync(store.BlobPath(digest), "tampered", Ct);

        await Assert.ThrowsAsync<FlyteSharpException>(() => store.GetAsync(digest, t.PathOf("dl/out"), Ct));

        Assert.Empty(Directory.EnumerateFileSystemEntries(t.PathOf("dl")));
    }

    [Fact]
    public async Task GetAsync_MissingBlob_ThrowsWithFix()
    {
        using var t = new TempTree();
        var store = new FileBlobStore(t.PathOf("store"));
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => store.GetAsync("sha256:" + new string('c', 64), t.PathOf("x"), Ct));
        Assert.Contains("not in the store", ex.Reason);
        Assert.NotNull(ex.Fix);
    }

    [Fact]
    public async Task PutObjectAsync_ThenGet_RoundTripsAndReplacesAtomically()
    {
        using var t = new TempTree();
        var store = new FileBlobStore(t.PathOf("store"));
        await store.PutObjectAsync("runs/r1/outputs.json", new MemoryStream("{\"a\":1}"u8.ToArray()), Ct);
        await store.PutObjectAsync("runs/r1/outputs.json", new MemoryStream("{\"a\":2}"u8.ToArray()), Ct);
        var read = new MemoryStream();
        await store.GetObjectAsync("runs/r1/outputs.json", read, Ct);

        Assert.Equal("{\"a\":2}", Encoding.UTF8.GetString(read.ToArray()));
        Assert.True(await store.ObjectExistsAsync("runs/r1/outputs.json", Ct));
        Assert.Equal(["outputs.json"], Directory.EnumerateFileSystemEntries(t.PathOf("store/objects/runs/r1")).Select(Path.GetFileName)); // no temp files
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("")]
    [InlineData("sp ace")]
    public async Task PutObjectAsync_UnsafeKey_Throws(string key)
    {
        using var t = new TempTree();
        var store = new FileBlobStore(t.PathOf("store"));
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => store.PutObjectAsync(key, new MemoryStream(), Ct));
        Assert.Contains("invalid object key", ex.Reason);
        Assert.False(Directory.Exists(t.PathOf("store")));
    }
}
