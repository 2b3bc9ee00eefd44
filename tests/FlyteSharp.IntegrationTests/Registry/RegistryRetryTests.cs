using System.Net;
using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Content;
using FlyteSharp.Execution.Python;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Registry;
using FlyteSharp.Runner;
using FlyteSharp.Storage;

namespace FlyteSharp.IntegrationTests.Registry;

/// <summary>
/// The one retry policy, in the C# client and in the Python runner's bundle download, against the real registry with a
/// <see cref="FaultyRegistryProxy"/> in front for the failures a real registry cannot be made to produce.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RegistryRetryTests(DistributionRegistry registry) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "flytesharp-retry-" + Guid.NewGuid().ToString("N"))).FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string Repo() => "flytesharp/retry-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A bundle pushed to the real registry: (repository, digest).</summary>
    private async Task<(string Repository, string Digest)> PushBundleAsync()
    {
        var root = Directory.CreateDirectory(Path.Combine(_work, "src", "app")).Parent!.FullName;
        await File.WriteAllTextAsync(Path.Combine(root, "app", "__init__.py"), "", Ct);
        await File.WriteAllTextAsync(Path.Combine(root, "app", "tasks.py"), "def hello():\n    return 'hi'\n", Ct);
        var bundle = await CodeBundler.CreateAsync(root, new BundleOptions { CacheDirectory = Path.Combine(_work, "cache") }, Ct);
        var repository = Repo();
        await using var store = new OciBlobStore(new OciRegistryClient(registry.Host, new FlyteConfig()), repository);
        await store.PutAsync(bundle.Digest, bundle.ArchivePath, Ct);
        return (repository, bundle.Digest);
    }

    [Fact]
    public async Task ManifestExistsAsync_429WithRetryAfter_WaitsWhatTheRegistryAsksThenAnswers()
    {
        using var proxy = new FaultyRegistryProxy(registry, [(HttpStatusCode.TooManyRequests, "1")]);
        using var client = new OciRegistryClient(proxy.Host, new FlyteConfig()) { InitialBackoff = TimeSpan.FromMilliseconds(5) };

        Assert.False(await client.ManifestExistsAsync(Repo(), "no-such-tag", Ct));

        Assert.Equal(2, proxy.Requests.Count);
        Assert.True(proxy.Requests[1].At - proxy.Requests[0].At >= TimeSpan.FromMilliseconds(950),
            $"waited {(proxy.Requests[1].At - proxy.Requests[0].At).TotalMilliseconds} ms; the registry asked for 1 s (the backoff alone is 5 ms)");
    }

    [Fact]
    public async Task PutAsync_RegistryKeepsRateLimiting_SaysRateLimitedNotCheckTheRepositoryName()
    {
        var bundle = Path.Combine(_work, "x.bin");
        await File.WriteAllTextAsync(bundle, "x", Ct);
        var digest = await Digests.OfFileAsync(bundle, Ct);
        using var proxy = new FaultyRegistryProxy(registry, FaultyRegistryProxy.Always(HttpStatusCode.TooManyRequests));
        await using var store = new OciBlobStore(new OciRegistryClient(proxy.Host, new FlyteConfig()) { InitialBackoff = TimeSpan.FromMilliseconds(5) }, Repo());

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => store.PutAsync(digest, bundle, Ct));

        Assert.Contains($"registry {proxy.Host} is rate limiting requests (429 Too Many Requests", ex.Reason);
        Assert.Contains($"after {RegistryRetry.MaxAttempts} attempt(s)", ex.Reason);
        Assert.DoesNotContain("repository name", ex.Fix);
        Assert.Equal(RegistryRetry.MaxAttempts, proxy.Requests.Count);
    }

    [Fact]
    public async Task ManifestExistsAsync_RetryAfterBeyondTheMaximum_FailsAtOnceSayingSo()
    {
        using var proxy = new FaultyRegistryProxy(registry, FaultyRegistryProxy.Always(HttpStatusCode.TooManyRequests, "3600"));
        using var client = new OciRegistryClient(proxy.Host, new FlyteConfig());

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => client.ManifestExistsAsync(Repo(), "t", Ct));

        Assert.Contains("it asks to wait 3600 s", ex.Reason);
        Assert.Contains("not retried", ex.Reason);
        Assert.Single(proxy.Requests);
    }

    [Fact]
    public async Task RegistryTagProbe_FourFailuresThenAnswer_UsesTheSharedFiveAttempts()
    {
        using var proxy = new FaultyRegistryProxy(registry, Enumerable.Repeat<(HttpStatusCode, string?)>((HttpStatusCode.ServiceUnavailable, null), 4));
        using var probe = new RegistryTagProbe(new FlyteConfig());

        Assert.False(await probe.ExistsAsync(proxy.Host, Repo(), "no-such-tag", Ct));

        Assert.Equal(5, proxy.Requests.Count);
    }

    private async Task<(int Code, string Out, string Err)> RunRunnerAsync(string url, string digest, string? authFile, int attempts, double backoff)
    {
        var script = Path.Combine(_work, PythonRunnerScript.FileName);
        await File.WriteAllBytesAsync(script, PythonRunnerScript.Bytes, Ct);
        List<string> args =
        [
            script, "--bundle", url, "--digest", digest, "--bundle-dir", Path.Combine(_work, "bundle-" + Guid.NewGuid().ToString("N")[..6]),
            "--fetch-attempts", attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--fetch-backoff", backoff.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];
        if (authFile is not null)
        {
            args.AddRange(["--bundle-auth-file", authFile]);
        }

        args.AddRange(["--describe", "app.tasks:hello"]);
        return await ChildProcess.RunAsync("python3", args, cancellationToken: Ct);
    }

    private async Task<string> WriteAuthFileAsync(string authorization)
    {
        var path = Path.Combine(_work, "registry.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new Dictionary<string, string> { ["authorization"] = authorization }), Ct);
        return path;
    }

    [Fact]
    public async Task Runner_PrivateStoreBlobFails503Then429RetryAfter_RetriesWithCredentialsAndUnpacks()
    {
        var (repository, digest) = await PushBundleAsync();
        const string token = "Bearer pull-only-token";
        using var proxy = new FaultyRegistryProxy(registry, [(HttpStatusCode.ServiceUnavailable, null), (HttpStatusCode.TooManyRequests, "1")], token);

        var (code, output, error) = await RunRunnerAsync($"http://{proxy.Host}/v2/{repository}/blobs/{digest}", digest, await WriteAuthFileAsync(token), 5, 0.05);

        Assert.True(code == 0, error);
        Assert.Contains("\"ok\": true", output);
        Assert.Equal(3, proxy.Requests.Count);
        Assert.All(proxy.Requests, r => Assert.Equal(token, r.Authorization));
        Assert.True(proxy.Requests[2].At - proxy.Requests[1].At >= TimeSpan.FromMilliseconds(950),
            $"waited {(proxy.Requests[2].At - proxy.Requests[1].At).TotalMilliseconds} ms after Retry-After: 1");
    }

    [Fact]
    public async Task Runner_RegistryKeepsRateLimiting_RefusesSayingRateLimitedAfterAllAttempts()
    {
        var (repository, digest) = await PushBundleAsync();
        using var proxy = new FaultyRegistryProxy(registry, FaultyRegistryProxy.Always(HttpStatusCode.TooManyRequests));

        var (code, _, error) = await RunRunnerAsync($"http://{proxy.Host}/v2/{repository}/blobs/{digest}", digest, null, RegistryRetry.MaxAttempts, 0.01);

        Assert.Equal(3, code);
        Assert.Contains("rate limiting the code bundle download", error);
        Assert.Contains($"after {RegistryRetry.MaxAttempts} attempt(s)", error);
        Assert.Equal(RegistryRetry.MaxAttempts, proxy.Requests.Count);
    }

    [Fact]
    public async Task Runner_PrivateStoreWithoutCredentials_RefusedWith401NotRetried()
    {
        var (repository, digest) = await PushBundleAsync();
        using var proxy = new FaultyRegistryProxy(registry, [], "Bearer needed");

        var (code, _, error) = await RunRunnerAsync($"http://{proxy.Host}/v2/{repository}/blobs/{digest}", digest, null, 5, 0.01);

        Assert.Equal(3, code);
        Assert.Contains("HTTP 401", error);
        Assert.Contains("credentials", error);
        Assert.Single(proxy.Requests);
    }

    [Fact]
    public async Task Runner_ConnectionRefused_RetriesTheSharedAttemptCountThenNamesTheUrl()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var digest = "sha256:" + new string('a', 64);

        var started = DateTimeOffset.UtcNow;
        var (code, _, error) = await RunRunnerAsync($"http://127.0.0.1:{port}/v2/r/blobs/{digest}", digest, null, 3, 0.2);

        Assert.Equal(3, code);
        Assert.Contains($"could not download the code bundle from http://127.0.0.1:{port}/v2/r/blobs/{digest} after 3 attempt(s)", error);
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromMilliseconds(550), "two backoffs (0.2 s, 0.4 s) come before the third attempt");
    }
}
