using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Registry;
using FlyteSharp.Storage;

namespace FlyteSharp.IntegrationTests.Storage;

/// <summary>Against the real distribution registry started by <see cref="DistributionRegistry"/>.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class OciBlobStoreTests(DistributionRegistry registry) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "flytesharp-oci-" + Guid.NewGuid().ToString("N"))).FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string Repo() => "flytesharp/test-" + Guid.NewGuid().ToString("N")[..12];

    private async Task<CodeBundle> MakeBundleAsync(string content = "print('hello')\n")
    {
        var root = Directory.CreateDirectory(Path.Combine(_work, "src-" + Guid.NewGuid().ToString("N"))).FullName;
        Directory.CreateDirectory(Path.Combine(root, "app"));
        await File.WriteAllTextAsync(Path.Combine(root, "app", "main.py"), content, Ct);
        await File.WriteAllBytesAsync(Path.Combine(root, "app", "data.bin"), RandomNumberGenerator.GetBytes(300_000), Ct);
        return await CodeBundler.CreateAsync(root, new BundleOptions { CacheDirectory = Path.Combine(_work, "cache") }, Ct);
    }

    /// <summary>Counts requests by method and path on their way to the real registry.</summary>
    private sealed class CountingHandler : DelegatingHandler
    {
        public CountingHandler() : base(new SocketsHttpHandler())
        {
        }

        public List<string> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Requests)
            {
                Requests.Add($"{request.Method} {request.RequestUri!.AbsolutePath}");
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task PutAsync_PushSkipExistingPullVerify_RoundTripsThroughRealRegistry()
    {
        var bundle = await MakeBundleAsync();
        var repo = Repo();
        var counting = new CountingHandler();
        await using var store = new OciBlobStore(new OciRegistryClient(registry.Host, new FlyteConfig(), counting), repo);

        // push
        Assert.False(await store.ExistsAsync(bundle.Digest, Ct));
        var uri = await store.PutAsync(bundle.Digest, bundle.ArchivePath, Ct);
        Assert.Equal($"oci://{registry.Host}/{repo}@{bundle.Digest}", uri);
        Assert.True(await store.ExistsAsync(bundle.Digest, Ct));
        Assert.Contains(counting.Requests, r => r.StartsWith("PUT ") && r.Contains("/blobs/uploads/"));

        // skip existing: exactly one HEAD, no upload
        counting.Requests.Clear();
        Assert.Equal(uri, await store.PutAsync(bundle.Digest, bundle.ArchivePath, Ct));
        Assert.Equal([$"HEAD /v2/{repo}/manifests/{OciBlobStore.BlobTag(bundle.Digest)}"], counting.Requests);

        // pull + verify: same bytes, and extractable
        var pulled = Path.Combine(_work, "pulled.tar.gz");
        await store.GetAsync(bundle.Digest, pulled, Ct);
        Assert.Equal(await File.ReadAllBytesAsync(bundle.ArchivePath, Ct), await File.ReadAllBytesAsync(pulled, Ct));
        await BundleExtractor.ExtractAsync(pulled, bundle.Digest, Path.Combine(_work, "out"), cancellationToken: Ct);
        Assert.Equal("print('hello')\n", await File.ReadAllTextAsync(Path.Combine(_work, "out", "app", "main.py"), Ct));

        // listable: the artifact's tag is in the repository
        using var http = new HttpClient();
        var tags = JsonNode.Parse(await http.GetStringAsync($"{registry.BaseUrl}/v2/{repo}/tags/list", Ct))!["tags"]!.AsArray().Select(t => t!.GetValue<string>());
        Assert.Contains(OciBlobStore.BlobTag(bundle.Digest), tags);
    }

    [Fact]
    public async Task PutAsync_ThroughBlobStoresOpen_UsesOciUri()
    {
        var bundle = await MakeBundleAsync("x = 1\n");
        var store = BlobStores.Open($"oci://{registry.Host}/{Repo()}", new FlyteConfig());
        var uri = await store.PutAsync(bundle.Digest, bundle.ArchivePath, Ct);
        var (storeUri, digest) = BlobStores.ParseBlobUri(uri);
        Assert.Equal(store.Uri, storeUri);
        Assert.Equal(bundle.Digest, digest);
        (store as IDisposable)?.Dispose();
    }

    [Fact]
    public async Task PutAsync_ContentNotMatchingDigest_IsRefusedAndNothingIsTagged()
    {
        var bundle = await MakeBundleAsync();
        var other = Path.Combine(_work, "other");
        await File.WriteAllTextAsync(other, "not the bundle", Ct);
        await using var store = new OciBlobStore(new OciRegistryClient(registry.Host, new FlyteConfig()), Repo());

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => store.PutAsync(bundle.Digest, other, Ct));

        Assert.Contains("does not match", ex.Reason);
        Assert.False(await store.ExistsAsync(bundle.Digest, Ct));
    }

    [Fact]
    public async Task UploadBlobAsync_WrongDigest_RegistryRefuses()
    {
        using var client = new OciRegistryClient(registry.Host, new FlyteConfig());
        var repo = Repo();
        var wrong = "sha256:" + new string('a', 64);
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => client.UploadBlobAsync(repo, wrong, () => new MemoryStream("abc"u8.ToArray()), 3, Ct));
        Assert.Contains("400", ex.Reason);
        Assert.False(await client.BlobExistsAsync(repo, wrong, Ct));
    }

    [Fact]
    public async Task GetAsync_MissingBlob_ThrowsAndWritesNothing()
    {
        await using var store = new OciBlobStore(new OciRegistryClient(registry.Host, new FlyteConfig()), Repo());
        var target = Path.Combine(_work, "missing.tar.gz");
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => store.GetAsync("sha256:" + new string('b', 64), target, Ct));
        Assert.Contains("is not in", ex.Reason);
        Assert.Empty(Directory.EnumerateFiles(_work));
    }

    [Fact]
    public async Task PutObjectAsync_ThenGet_RoundTripsAndReplaces()
    {
        await using var store = new OciBlobStore(new OciRegistryClient(registry.Host, new FlyteConfig()), Repo());
        Assert.False(await store.ObjectExistsAsync("runs/r1/inputs.json", Ct));
        await store.PutObjectAsync("runs/r1/inputs.json", new MemoryStream("{\"n\":1}"u8.ToArray()), Ct);
        await store.PutObjectAsync("runs/r1/inputs.json", new MemoryStream("{\"n\":2}"u8.ToArray()), Ct);
        var read = new MemoryStream();
        await store.GetObjectAsync("runs/r1/inputs.json", read, Ct);
        Assert.Equal("{\"n\":2}", Encoding.UTF8.GetString(read.ToArray()));
        Assert.True(await store.ObjectExistsAsync("runs/r1/inputs.json", Ct));
        await Assert.ThrowsAsync<FlyteSharpException>(() => store.GetObjectAsync("runs/r1/missing.json", new MemoryStream(), Ct));
    }

    [Fact]
    public async Task ManifestExistsAsync_ImageTagPushedOrNot_AnswersTrueOrFalse()
    {
        var bundle = await MakeBundleAsync();
        var repo = Repo();
        await using var store = new OciBlobStore(new OciRegistryClient(registry.Host, new FlyteConfig()), repo);
        await store.PutAsync(bundle.Digest, bundle.ArchivePath, Ct);
        using var client = new OciRegistryClient(registry.Host, new FlyteConfig());
        Assert.True(await client.ManifestExistsAsync(repo, OciBlobStore.BlobTag(bundle.Digest), Ct));
        Assert.False(await client.ManifestExistsAsync(repo, "no-such-tag", Ct));
        await client.PingAsync(Ct);
    }

    /// <summary>
    /// Fault injection in front of the real registry: the first N requests get 503 (a registry cannot be made
    /// to fail on demand), the rest pass through.
    /// </summary>
    private sealed class FailingHandler(int failures) : DelegatingHandler(new SocketsHttpHandler())
    {
        public int Failures { get; private set; } = failures;

        public int Calls { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            if (Failures > 0)
            {
                Failures--;
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task PutAsync_RegistryFailsTwiceWith503_RetriesAndSucceeds()
    {
        var bundle = await MakeBundleAsync();
        var failing = new FailingHandler(2);
        await using var store = new OciBlobStore(new OciRegistryClient(registry.Host, new FlyteConfig(), failing) { InitialBackoff = TimeSpan.FromMilliseconds(10) }, Repo());
        await store.PutAsync(bundle.Digest, bundle.ArchivePath, Ct);
        Assert.True(await store.ExistsAsync(bundle.Digest, Ct));
        Assert.Equal(0, failing.Failures);
    }

    [Fact]
    public async Task PutAsync_RegistryKeepsFailing_ThrowsClearErrorAfterRetries()
    {
        var bundle = await MakeBundleAsync();
        var failing = new FailingHandler(int.MaxValue);
        await using var store = new OciBlobStore(new OciRegistryClient(registry.Host, new FlyteConfig(), failing) { InitialBackoff = TimeSpan.FromMilliseconds(5), MaxAttempts = 3 }, Repo());
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => store.PutAsync(bundle.Digest, bundle.ArchivePath, Ct));
        Assert.Contains("503", ex.Reason);
        Assert.Equal(3, failing.Calls);
    }

    [Fact]
    public async Task PingAsync_RegistryDown_RetriesThenThrowsNamingIt()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now: connection refused
        using var client = new OciRegistryClient($"127.0.0.1:{port}", new FlyteConfig()) { InitialBackoff = TimeSpan.FromMilliseconds(5), MaxAttempts = 3 };
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => client.PingAsync(Ct));
        Assert.Contains($"registry 127.0.0.1:{port} is not reachable", ex.Reason);
        Assert.Contains("after 3 attempt(s)", ex.Reason);
    }
}
