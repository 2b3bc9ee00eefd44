using System.Net;
using System.Net.Sockets;
using FlyteSharp.Worker;

namespace FlyteSharp.Tests.Worker;

/// <summary>
/// The worker's download of a private store's .NET bundle against real HTTP servers on loopback: the mounted credentials
/// file's value reaches the registry, never a redirect's other host, and no error shows it.
/// </summary>
public sealed class BundleDownloadTests : IDisposable
{
    private const string Credential = "Basic Y2k6czNjcmV0";
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private static (HttpListener Listener, string Prefix) Serve(Func<HttpListenerRequest, (int Status, string? Location, string Body)> answer, List<(string Path, string? Authorization)> seen)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var prefix = $"http://127.0.0.1:{port}/";
        var listener = new HttpListener();
        listener.Prefixes.Add(prefix);
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception) when (!listener.IsListening)
                {
                    return;
                }

                lock (seen)
                {
                    seen.Add((context.Request.Url!.AbsolutePath, context.Request.Headers["Authorization"]));
                }

                var (status, location, body) = answer(context.Request);
                context.Response.StatusCode = status;
                if (location is not null)
                {
                    context.Response.RedirectLocation = location;
                }

                var bytes = System.Text.Encoding.UTF8.GetBytes(body);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });
        return (listener, prefix);
    }

    private string AuthFile(string json = "{\"authorization\": \"" + Credential + "\"}") => _tree.Write("auth/registry.json", json);

    [Fact]
    public async Task ToFileAsync_PrivateRegistry_SendsTheCredentialToTheRegistryOnly_NotToTheRedirectsOtherHost()
    {
        var registrySeen = new List<(string, string?)>();
        var storageSeen = new List<(string, string?)>();
        var (storage, storagePrefix) = Serve(_ => (200, null, "bundle bytes"), storageSeen);
        var (registry, registryPrefix) = Serve(r => r.Url!.AbsolutePath.EndsWith("/blobs/sha256:abc", StringComparison.Ordinal)
            ? (307, storagePrefix + "blob-storage/abc?signature=x", "")
            : (404, null, ""), registrySeen);
        using (storage)
        using (registry)
        {
            var target = _tree.PathOf("bundle.tar.gz");

            await BundleDownload.ToFileAsync(registryPrefix + "v2/app/bundles/blobs/sha256:abc", AuthFile(), target, TestContext.Current.CancellationToken);

            Assert.Equal("bundle bytes", await File.ReadAllTextAsync(target, TestContext.Current.CancellationToken));
            Assert.Equal([("/v2/app/bundles/blobs/sha256:abc", (string?)Credential)], registrySeen);
            Assert.Equal([("/blob-storage/abc", (string?)null)], storageSeen);
        }
    }

    [Fact]
    public async Task ToFileAsync_RegistryRefusesTheCredential_ErrorNamesTheStatusNotTheCredential()
    {
        var seen = new List<(string, string?)>();
        var (registry, prefix) = Serve(_ => (401, null, "denied"), seen);
        using (registry)
        {
            var error = await Assert.ThrowsAsync<FlyteSharpException>(() =>
                BundleDownload.ToFileAsync(prefix + "v2/app/blobs/sha256:abc", AuthFile(), _tree.PathOf("b.tar.gz"), TestContext.Current.CancellationToken));

            Assert.Contains("HTTP 401", error.Message, StringComparison.Ordinal);
            Assert.Contains("check the store's credentials", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Y2k6", error.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("{\"authorization\": \"Basic Y2k6czNjcmV0")]
    [InlineData("{\"token\": \"Basic Y2k6czNjcmV0\"}")]
    [InlineData("{\"authorization\": \"Basic Y2k6\\nczNjcmV0\"}")]
    public void ReadAuthorization_UnusableFile_IsRefusedWithoutShowingItsContent(string content)
    {
        var error = Assert.Throws<FlyteSharpException>(() => BundleDownload.ReadAuthorization(AuthFile(content)));

        Assert.Contains("registry credentials file", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Y2k6", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BundleAuthFileWithoutBundle_IsRefused()
    {
        var error = Assert.Throws<FlyteSharpException>(() => WorkerArguments.Parse(
            ["--assembly", "A.dll", "--task", "t", "--inputs", "i", "--outputs", "o", "--bundle-auth-file", "/flytesharp/auth/registry.json"]));

        Assert.Contains("--bundle-auth-file", error.Message, StringComparison.Ordinal);
    }
}
