using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Text;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Controller;

/// <summary>
/// Hostile and careless clients against the real server (a real run's controller on a real Unix socket), speaking raw
/// bytes: malformed framing, oversized and slow requests, missing or wrong tokens. Each gets its status and the connection closes.
/// </summary>
public class ControllerHttpTests : IDisposable
{
    private static readonly ControllerHttpLimits Tight = ControllerHttpLimits.Default with
    {
        MaxHeadBytes = 1024,
        MaxHeaders = 8,
        MaxBodyBytes = 4096,
        HeadTimeout = TimeSpan.FromMilliseconds(500),
        BodyTimeout = TimeSpan.FromMilliseconds(500),
        MaxConnections = 2,
    };

    private readonly RunFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Request_Garbage_Is400()
    {
        var response = await WithServerAsync(s => s.SendAsync("\u0001\u0002hello there\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", response, StringComparison.Ordinal);
        Assert.Contains("is not an HTTP/1.1 request line", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_HeadersLargerThanTheLimit_Is431()
    {
        var response = await WithServerAsync(s => s.SendAsync($"POST /v1/actions/x/children HTTP/1.1\r\nX-Filler: {new string('a', 2000)}\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 431 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_TooManyHeaderLines_Is431()
    {
        var headers = string.Concat(Enumerable.Range(0, 20).Select(i => $"X-{i}: {i}\r\n"));

        var response = await WithServerAsync(s => s.SendAsync($"POST /v1/actions/x/children HTTP/1.1\r\n{headers}\r\n"));

        Assert.StartsWith("HTTP/1.1 431 ", response, StringComparison.Ordinal);
        Assert.Contains("more than 8 header lines", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_FoldedHeaderLine_Is400()
    {
        var response = await WithServerAsync(s => s.SendAsync($"POST {s.Path} HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\n folded\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_WithoutContentLength_Is411()
    {
        var response = await WithServerAsync(s => s.SendAsync($"POST {s.Path} HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 411 Length Required\r\n", response, StringComparison.Ordinal);
        Assert.Contains("no Content-Length", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_Chunked_Is411()
    {
        var response = await WithServerAsync(s => s.SendAsync($"POST {s.Path} HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 411 ", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("12abc")]
    [InlineData("99999999999999999999999")]
    public async Task Request_ContentLengthNotANumber_Is400(string length)
    {
        var response = await WithServerAsync(s => s.SendAsync($"POST {s.Path} HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\nContent-Length: {length}\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_BodyLargerThanTheLimit_Is413BeforeItIsRead()
    {
        var response = await WithServerAsync(s => s.SendAsync($"POST {s.Path} HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\nContent-Length: 100000000\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 413 ", response, StringComparison.Ordinal);
        Assert.Contains("more than the limit of 4096", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_MoreBytesThanContentLength_Is400()
    {
        var response = await WithServerAsync(s => s.SendAsync($"POST {s.Path} HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\nContent-Length: 2\r\n\r\n{{}}GET / HTTP/1.1\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_SlowHeaders_Is408AfterTheHeadTimeout()
    {
        var clock = Stopwatch.StartNew();

        var response = await WithServerAsync(s => s.SendAsync("POST /v1/actions/", keepOpen: true));

        Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Request_SlowBody_Is408AfterTheBodyTimeout()
    {
        var response = await WithServerAsync(s => s.SendAsync($"POST {s.Path} HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\nContent-Length: 100\r\n\r\n{{\"task\"", keepOpen: true));

        Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        Assert.Contains("the body did not arrive", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connections_MoreThanTheLimit_GetA503()
    {
        var response = await WithServerAsync(async s =>
        {
            // Two slow clients hold both slots (until the head timeout); the third is turned away at once.
            using var first = await s.ConnectAsync();
            using var second = await s.ConnectAsync();
            await first.SendAsync("POST"u8.ToArray(), SocketFlags.None);
            await second.SendAsync("POST"u8.ToArray(), SocketFlags.None);
            await Task.Delay(100);
            return await s.SendAsync("POST / HTTP/1.1\r\n\r\n");
        });

        Assert.StartsWith("HTTP/1.1 503 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_ExpectContinue_GetsA100ThenTheReply()
    {
        var response = await WithServerAsync(async s =>
        {
            const string body = "{\"task\": \"echo\", \"inputs\": {\"n\": 41}}";
            using var socket = await s.ConnectAsync();
            await socket.SendAsync(Encoding.ASCII.GetBytes($"POST {s.Path} HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\nExpect: 100-continue\r\nContent-Length: {body.Length}\r\n\r\n"), SocketFlags.None);
            var buffer = new byte[256];
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None);
            var interim = Encoding.ASCII.GetString(buffer, 0, read);
            await socket.SendAsync(Encoding.ASCII.GetBytes(body), SocketFlags.None);
            return interim + await ReadToEndAsync(socket);
        });

        Assert.StartsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith("{\"output\":41}", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_BodyNotJson_Is400()
    {
        var response = await WithServerAsync(s => s.SendAsync(Post(s, s.Token, "{not json")));

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("the body is not JSON", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[1]", "must be a JSON object")]
    [InlineData("{\"inputs\": {}}", "names no \\\"task\\\"")]
    [InlineData("{\"task\": 3}", "must be a non-empty string")]
    [InlineData("{\"task\": \"echo\", \"inputs\": 5}", "must be an object of inputs")]
    [InlineData("{\"task\": \"echo\", \"input\": {}}", "unknown property")]
    public async Task Request_BodyOfTheWrongShape_Is400NamingWhatIsWrong(string body, string expected)
    {
        var response = await WithServerAsync(s => s.SendAsync(Post(s, s.Token, body)));

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains(expected, response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer")]
    [InlineData("Bearer wrong-token")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task Request_WithoutTheRunsToken_Is401AndRevealsNothing(string? authorization)
    {
        var response = await WithServerAsync(s => s.SendAsync(
            $"POST {s.Path} HTTP/1.1\r\n{(authorization is null ? "" : $"Authorization: {authorization}\r\n")}Content-Length: 2\r\n\r\n{{}}"));

        Assert.StartsWith("HTTP/1.1 401 Unauthorized\r\n", response, StringComparison.Ordinal);
        Assert.DoesNotContain("echo", response, StringComparison.Ordinal);
        Assert.DoesNotContain("/v1/actions", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_TokenOfAnotherRun_Is401()
    {
        string? otherToken = null;
        await WithServerAsync(s =>
        {
            otherToken = s.Token;
            return Task.FromResult("");
        });

        var response = await WithServerAsync(s => s.SendAsync(Post(s, otherToken!, "{\"task\": \"echo\", \"inputs\": {\"n\": 1}}")));

        Assert.StartsWith("HTTP/1.1 401 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_UnknownPathWithoutToken_Is401NotA404()
    {
        var response = await WithServerAsync(s => s.SendAsync("GET /admin HTTP/1.1\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 401 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_UnknownPathOrMethodWithToken_Is404Or405()
    {
        var responses = await WithServerAsync(async s =>
            await s.SendAsync($"GET /v1/runs HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\n\r\n")
            + "\n---\n"
            + await s.SendAsync($"GET {s.Path} HTTP/1.1\r\nAuthorization: Bearer {s.Token}\r\n\r\n"));

        var parts = responses.Split("\n---\n");
        Assert.StartsWith("HTTP/1.1 404 ", parts[0], StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 405 ", parts[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_Valid_Is200WithTheOutput()
    {
        var response = await WithServerAsync(s => s.SendAsync(Post(s, s.Token, "{\"task\": \"echo\", \"inputs\": {\"n\": 7}}")));

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        Assert.Contains("Connection: close\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n{\"output\":7}", response, StringComparison.Ordinal);
    }

    private static string Post(Server s, string token, string body) =>
        $"POST {s.Path} HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    /// <summary>Runs <paramref name="test"/> inside a real run whose root action is registered with a server of tight limits.</summary>
    private async Task<string> WithServerAsync(Func<Server, Task<string>> test)
    {
        var env = new TaskEnvironment("raw", Image.FromDebianBase());
        env.Task("echo", async (int n) => await Task.FromResult(n));
        string? result = null;
        Exception? failure = null;
        var root = env.Task("raw_parent", async () =>
        {
            var scope = ActionScope.Current!;
            var server = ControllerServer.StartUnix(scope.Controller, Path.Combine(_fixture.Root, "c" + Guid.NewGuid().ToString("n")[..6]), Tight);
            await using var serverDisposal = server;
            using var registration = server.Register(scope);
            try
            {
                result = await test(new Server(server.SocketPath!, (await File.ReadAllTextAsync(server.TokenFile)).Trim(), $"/v1/actions/{scope.ActionId}/children"));
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            return "done";
        });

        var run = await _fixture.Runtime.Run(root, _fixture.Options());
        Assert.Equal(RunStatus.Succeeded, await run.WaitAsync(Ct));
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        return result!;
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(received.ToArray());
    }

    /// <summary>The server under test, as a raw client sees it.</summary>
    private sealed record Server(string SocketPath, string Token, string Path)
    {
        public async Task<Socket> ConnectAsync()
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), Ct);
            return socket;
        }

        /// <summary>Sends <paramref name="request"/> and reads the reply until the server closes; <paramref name="keepOpen"/> leaves the sending side open (a slow client).</summary>
        public async Task<string> SendAsync(string request, bool keepOpen = false)
        {
            using var socket = await ConnectAsync();
            await socket.SendAsync(Encoding.UTF8.GetBytes(request), SocketFlags.None, Ct);
            if (!keepOpen)
            {
                socket.Shutdown(SocketShutdown.Send);
            }

            return await ReadToEndAsync(socket);
        }
    }
}
