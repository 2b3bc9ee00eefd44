using System.Net.Sockets;
using System.Text;
using FlyteSharp.Execution.Containers;

namespace FlyteSharp.Tests.Execution.Containers;

/// <summary>
/// The driver's end of a replica's serve socket against hostile or broken peers: a real Unix socket served by this test
/// (standing in for whatever runs in the container), so every byte the connection reads is the test's choice.
/// </summary>
public sealed class ReplicaConnectionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fs-rc-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string SocketPath => Path.Combine(_dir, ReplicaConnection.SocketName);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task SendAsync_LogMessagesThenResponse_LogsEachLineAndReturnsTheResponse()
    {
        using var server = Listen(SocketPath);
        var peer = ServeAsync(server, async (reader, socket) =>
        {
            var request = await reader.ReadLineAsync(Token);
            Assert.Contains("\"op\":\"call\"", request, StringComparison.Ordinal);
            Assert.StartsWith("{\"id\":1,", request, StringComparison.Ordinal);
            await SendAsync(socket, """{"id": 1, "log": "stdout", "text": "one\ntwo\r\n\n"}""" + "\n"
                + """{"id": 1, "log": "stderr", "text": "err"}""" + "\n"
                + """{"id": 1, "ok": true, "output": 42}""" + "\n");
        });
        using var connection = await ReplicaConnection.ConnectAsync(SocketPath, "r1", 1 << 20, Token);
        var logged = new List<string>();

        using var response = await connection.SendAsync(w => w.WriteString("op", "call"), (stream, line) => logged.Add(stream + ":" + line), Token);

        Assert.Equal(42, response.RootElement.GetProperty("output").GetInt32());
        Assert.Equal(["stdout:one", "stdout:two", "stdout:", "stderr:err"], logged);
        await peer;
    }

    [Fact]
    public async Task SendAsync_LargeReplyThenSmallOnes_EachReadWhole()
    {
        var large = new string('z', 3 << 20);
        using var server = Listen(SocketPath);
        var peer = ServeAsync(server, async (reader, socket) =>
        {
            await reader.ReadLineAsync(Token);
            await SendAsync(socket, "{\"id\": 1, \"ok\": true, \"output\": \"" + large + "\"}\n");
            await reader.ReadLineAsync(Token);
            await SendAsync(socket, """{"id": 2, "ok": true, "output": 2}""" + "\n");
            await reader.ReadLineAsync(Token);
            await SendAsync(socket, """{"id": 3, "ok": true, "output": 3}""" + "\n");
        });
        using var connection = await ReplicaConnection.ConnectAsync(SocketPath, "r1", 8 << 20, Token);

        using (var first = await connection.SendAsync(w => w.WriteString("op", "call"), null, Token))
        {
            Assert.Equal(large, first.RootElement.GetProperty("output").GetString());
        }

        using var second = await connection.SendAsync(w => w.WriteString("op", "call"), null, Token);
        using var third = await connection.SendAsync(w => w.WriteString("op", "call"), null, Token);
        Assert.Equal(2, second.RootElement.GetProperty("output").GetInt32());
        Assert.Equal(3, third.RootElement.GetProperty("output").GetInt32());
        await peer;
    }

    [Fact]
    public async Task SendAsync_LogOfAnEarlierRequest_IsDropped()
    {
        using var server = Listen(SocketPath);
        var peer = ServeAsync(server, async (reader, socket) =>
        {
            await reader.ReadLineAsync(Token);
            await SendAsync(socket, """{"id": 1, "ok": true, "output": 1}""" + "\n");
            await reader.ReadLineAsync(Token);

            // A task's thread of call 1 printed after that call ended.
            await SendAsync(socket, """{"id": 1, "log": "stdout", "text": "late\n"}""" + "\n" + """{"id": 2, "ok": true, "output": 2}""" + "\n");
        });
        using var connection = await ReplicaConnection.ConnectAsync(SocketPath, "r1", 1 << 20, Token);
        var logged = new List<string>();
        (await connection.SendAsync(w => w.WriteString("op", "call"), (_, line) => logged.Add(line), Token)).Dispose();

        using var second = await connection.SendAsync(w => w.WriteString("op", "call"), (_, line) => logged.Add(line), Token);

        Assert.Equal(2, second.RootElement.GetProperty("output").GetInt32());
        Assert.Empty(logged);
        await peer;
    }

    [Fact]
    public async Task SendAsync_LogLineLongerThanAChunk_ComesOutInBoundedPieces()
    {
        var chunk = FlyteSharp.Runs.RunStoreWriter.MaxLogChunkChars;
        using var server = Listen(SocketPath);
        var peer = ServeAsync(server, async (reader, socket) =>
        {
            await reader.ReadLineAsync(Token);
            await SendAsync(socket, "{\"id\": 1, \"log\": \"stdout\", \"text\": \"" + new string('x', (chunk * 2) + 5) + "\\n\"}\n" + """{"id": 1, "ok": true, "output": 0}""" + "\n");
        });
        using var connection = await ReplicaConnection.ConnectAsync(SocketPath, "r1", 1 << 20, Token);
        var logged = new List<string>();

        (await connection.SendAsync(w => w.WriteString("op", "call"), (_, line) => logged.Add(line), Token)).Dispose();

        Assert.Equal([chunk, chunk, 5], logged.Select(l => l.Length));
        await peer;
    }

    [Theory]
    [InlineData("this is not json, it could be a secret")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"ok\": true, \"output\": 1}")]
    [InlineData("{\"id\": \"one\", \"ok\": true}")]
    [InlineData("{\"id\": 1, \"log\": \"stdin\", \"text\": \"x\"}")]
    [InlineData("{\"id\": 7, \"ok\": true, \"output\": 1}")]
    public async Task SendAsync_PeerSendsSomethingElseThanTheProtocol_ThrowsWithoutEchoingIt(string garbage)
    {
        using var server = Listen(SocketPath);
        var peer = ServeAsync(server, async (reader, socket) =>
        {
            await reader.ReadLineAsync(Token);
            await SendAsync(socket, garbage + "\n");
        });
        using var connection = await ReplicaConnection.ConnectAsync(SocketPath, "r1", 1 << 20, Token);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => connection.SendAsync(w => w.WriteString("op", "call"), null, Token));

        Assert.Contains("reusable container r1", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.Fix);
        await peer;
    }

    [Fact]
    public async Task SendAsync_LineLongerThanTheBound_ThrowsBeforeReadingItAll()
    {
        const int bound = 64 * 1024;
        using var server = Listen(SocketPath);
        var written = 0L;
        var peer = ServeAsync(server, async (reader, socket) =>
        {
            await reader.ReadLineAsync(Token);
            var block = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));
            try
            {
                // Endless: only the driver's bound ends this.
                for (var i = 0; i < 16 * 1024; i++)
                {
                    await socket.SendAsync(block, SocketFlags.None, Token);
                    written += block.Length;
                }
            }
            catch (SocketException)
            {
                // The driver gave up and closed the connection.
            }
        });
        var connection = await ReplicaConnection.ConnectAsync(SocketPath, "r1", bound, Token);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => connection.SendAsync(w => w.WriteString("op", "call"), null, Token));
        connection.Dispose();
        await peer;

        Assert.Contains($"longer than {bound} bytes", ex.Message, StringComparison.Ordinal);
        Assert.True(written < 1L << 30, $"{written} bytes were sent before the driver stopped reading");
    }

    [Fact]
    public async Task SendAsync_PeerNeverAnswers_CancellationEndsTheWait()
    {
        using var server = Listen(SocketPath);
        var accepted = server.AcceptAsync(Token).AsTask();
        using var connection = await ReplicaConnection.ConnectAsync(SocketPath, "r1", 1 << 20, Token);
        using var peer = await accepted;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.SendAsync(w => w.WriteString("op", "call"), null, cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancellation took {clock.Elapsed}");
    }

    [Fact]
    public async Task SendAsync_PeerClosesTheConnection_ThrowsEndOfStream()
    {
        using var server = Listen(SocketPath);
        var peer = ServeAsync(server, async (reader, socket) =>
        {
            await reader.ReadLineAsync(Token);
            await SendAsync(socket, "{\"id\": 1, \"log\": \"stdout\", \"text\": \"unfinished");
        });
        using var connection = await ReplicaConnection.ConnectAsync(SocketPath, "r1", 1 << 20, Token);

        var send = connection.SendAsync(w => w.WriteString("op", "call"), null, Token);
        await peer;

        await Assert.ThrowsAsync<EndOfStreamException>(() => send);
    }

    [Fact]
    public async Task ConnectAsync_SocketPathIsASymlinkToAnotherSocket_RefusedAndNeverConnects()
    {
        var elsewhere = Path.Combine(_dir, "host.sock");
        using var host = Listen(elsewhere);
        File.CreateSymbolicLink(SocketPath, elsewhere);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => ReplicaConnection.ConnectAsync(SocketPath, "r1", 1 << 20, Token));

        Assert.Contains("is a symlink", ex.Message, StringComparison.Ordinal);
        Assert.False(host.Poll(0, SelectMode.SelectRead), "the socket the link named got a connection");
    }

    [Fact]
    public async Task ConnectAsync_PathIsARegularFile_Refused()
    {
        await File.WriteAllTextAsync(SocketPath, "not a socket", Token);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => ReplicaConnection.ConnectAsync(SocketPath, "r1", 1 << 20, Token));

        Assert.Contains("is not a socket", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_NoSocket_SaysItDoesNotExist()
    {
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => ReplicaConnection.ConnectAsync(SocketPath, "r1", 1 << 20, Token));

        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_HostPathLongerThanASocketAddress_StillConnects()
    {
        // sun_path holds 108 bytes; a run's sandbox under a deep home can be longer.
        var deep = Path.Combine(_dir, new string('d', 100), new string('e', 100));
        Directory.CreateDirectory(deep);
        var path = Path.Combine(deep, ReplicaConnection.SocketName);
        using var server = ListenThroughDirectory(deep);
        var peer = ServeAsync(server, async (reader, socket) =>
        {
            await reader.ReadLineAsync(Token);
            await SendAsync(socket, """{"id": 1, "ok": true, "output": 3}""" + "\n");
        });

        using var connection = await ReplicaConnection.ConnectAsync(path, "r1", 1 << 20, Token);
        using var response = await connection.SendAsync(w => w.WriteString("op", "describe"), null, Token);

        Assert.Equal(3, response.RootElement.GetProperty("output").GetInt32());
        await peer;
    }

    private static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen(1);
        return socket;
    }

    /// <summary>A socket at a path longer than a socket address can hold: bound at a short path, then moved there.</summary>
    private Socket ListenThroughDirectory(string directory)
    {
        var shortPath = Path.Combine(_dir, "s.sock");
        var socket = Listen(shortPath);
        File.Move(shortPath, Path.Combine(directory, ReplicaConnection.SocketName));
        return socket;
    }

    private static async Task ServeAsync(Socket listener, Func<StreamReader, Socket, Task> serve)
    {
        using var socket = await listener.AcceptAsync(Token);
        using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await serve(reader, socket);
        socket.Shutdown(SocketShutdown.Both);
    }

    private static async Task SendAsync(Socket socket, string text) =>
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None, Token);
}
