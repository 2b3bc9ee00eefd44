using System.Diagnostics;
using System.Text.Json;
using FlyteSharp.Bundles;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Runner;

namespace FlyteSharp.Tests.Runner;

/// <summary>
/// The runner's serve loop on a Unix socket (<c>--serve-socket</c>, how a reusable container is driven), on a real
/// local interpreter through the driver's <see cref="ReplicaConnection"/>.
/// </summary>
public sealed class RunnerServeSocketTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fs-sock-").FullName;
    private readonly List<Process> _processes = [];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string SocketPath => Path.Combine(_root, ReplicaConnection.SocketName);

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }

        Directory.Delete(_root, recursive: true);
    }

    private const string Ops = """
        import os, sys, threading

        def add(x: int) -> int:
            return x + 1

        def chatty(x: int) -> int:
            print("first")
            print("half", end="", flush=True)
            print(" line")
            print("e" * 70000)
            sys.stderr.write("to stderr\n")
            print("unfinished", end="")
            return x

        def boom(x: int) -> int:
            raise ValueError("v" * 1000000)

        def garbage(x: int) -> int:
            for fd in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                        os.write(int(fd), b"garbage from the task\n")
                except OSError:
                    pass
            return x

        def relink(x: int) -> int:
            os.symlink("/etc/passwd", os.environ["SOCKET_PATH"])
            return x
        """;

    [Fact]
    public async Task Serve_CallsOverTheSocket_ListenerPathRemovedAfterTheDriverConnected()
    {
        using var connection = await StartAsync();

        Assert.Equal("2", await CallAsync(connection, "app.ops:add", 1));

        Assert.False(Path.Exists(SocketPath)); // removed once accepted: nothing else can connect later
        Assert.Equal("3", await CallAsync(connection, "app.ops:add", 2));
    }

    [Fact]
    public async Task Serve_StreamedCall_PrintedLinesArriveAsLogMessagesWholeAndBounded()
    {
        using var connection = await StartAsync();
        var logged = new List<(string Stream, string Line)>();

        Assert.Equal("7", await CallAsync(connection, "app.ops:chatty", 7, (stream, line) => logged.Add((stream, line))));

        var stdout = logged.Where(l => l.Stream == "stdout").Select(l => l.Line).ToList();
        Assert.Equal("first", stdout[0]);
        Assert.Equal("half line", stdout[1]); // a flush in the middle of a line does not split it
        Assert.Equal(new string('e', 70000), string.Concat(stdout[2..^1]));
        Assert.All(stdout, l => Assert.True(l.Length <= FlyteSharp.Runs.RunStoreWriter.MaxLogChunkChars));
        Assert.Equal("unfinished", stdout[^1]);
        Assert.Contains(("stderr", "to stderr"), logged);
    }

    [Fact]
    public async Task Serve_HugeErrorMessage_CutSoTheResponseStaysWithinTheDriversBound()
    {
        using var connection = await StartAsync();

        using var response = await connection.SendAsync(w => Call(w, "app.ops:boom", 1), null, Token);

        var error = RunnerProtocol.ParseCall(response.RootElement).Error!;
        Assert.Equal("ValueError", error.Type);
        Assert.True(error.Message.Length < 300_000, $"{error.Message.Length} characters");
        Assert.EndsWith("more characters cut)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_TaskWritesGarbageToTheSocket_DriverRefusesTheReply()
    {
        using var connection = await StartAsync();

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => CallAsync(connection, "app.ops:garbage", 1));

        Assert.Contains("not JSON", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("garbage from the task", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_TaskPlantsASymlinkAtTheSocketPath_LaterCallsKeepTheirConnection()
    {
        using var connection = await StartAsync();

        Assert.Equal("1", await CallAsync(connection, "app.ops:relink", 1));

        Assert.NotNull(new FileInfo(SocketPath).LinkTarget);
        Assert.Equal("5", await CallAsync(connection, "app.ops:add", 4)); // the same connection, never the link
    }

    [Fact]
    public async Task Serve_Reload_NextInterpreterKeepsTheConnectionAndServesTheNewCode()
    {
        using var connection = await StartAsync();
        var process = _processes[^1];
        var bundle = await BundleAsync("v2", "def add(x: int) -> int:\n    return x + 100\n");

        using (var reloaded = await connection.SendAsync(w =>
        {
            w.WriteString("op", "reload");
            w.WriteString("bundle", bundle.ArchivePath);
            w.WriteString("digest", bundle.Digest);
            w.WriteString("bundle_dir", Path.Combine(_root, "bundles", "b"));
            w.WriteStartArray("paths");
            w.WriteEndArray();
        }, null, Token))
        {
            Assert.True(reloaded.RootElement.GetProperty("ok").GetBoolean(), reloaded.RootElement.ToString());
        }

        Assert.Equal("101", await CallAsync(connection, "app.ops:add", 1));
        Assert.False(process.HasExited);
    }

    [Fact]
    public async Task Serve_DriverClosesTheConnection_RunnerEnds()
    {
        var connection = await StartAsync();
        var process = _processes[^1];

        connection.Dispose();

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(Token);
        wait.CancelAfter(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(wait.Token);
        Assert.Equal(0, process.ExitCode);
    }

    private async Task<ReplicaConnection> StartAsync()
    {
        var bundle = await BundleAsync("v1", Ops);
        var dir = Path.Combine(_root, "bundles", "a");
        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, dir, cancellationToken: Token);
        var runner = Path.Combine(_root, PythonRunnerScript.FileName);
        await File.WriteAllBytesAsync(runner, PythonRunnerScript.Bytes, Token);
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in (string[])[runner, "--bundle-dir", dir, "--serve", "--serve-socket", SocketPath])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SOCKET_PATH"] = SocketPath;
        var process = Process.Start(start)!;
        _processes.Add(process);
        Assert.Equal(RunnerProtocol.ServeListening, await process.StandardOutput.ReadLineAsync(Token));
        return await ReplicaConnection.ConnectAsync(SocketPath, "local", 16 << 20, Token);
    }

    private async Task<CodeBundle> BundleAsync(string version, string ops)
    {
        var src = Path.Combine(_root, "src-" + version);
        Directory.CreateDirectory(Path.Combine(src, "app"));
        await File.WriteAllTextAsync(Path.Combine(src, "app", "__init__.py"), "", Token);
        await File.WriteAllTextAsync(Path.Combine(src, "app", "ops.py"), ops, Token);
        return await CodeBundler.CreateAsync(src, new BundleOptions { CacheDirectory = Path.Combine(_root, "cache") }, Token);
    }

    private static void Call(System.Text.Json.Utf8JsonWriter w, string task, int x)
    {
        w.WriteString("op", "call");
        w.WriteString("task", task);
        w.WriteStartObject("inputs");
        w.WriteNumber("x", x);
        w.WriteEndObject();
        w.WriteBoolean("stream", true);
    }

    private static async Task<string> CallAsync(ReplicaConnection connection, string task, int x, Action<string, string>? log = null)
    {
        using var doc = await connection.SendAsync(w => Call(w, task, x), log ?? ((_, _) => { }), Token);
        var result = RunnerProtocol.ParseCall(doc.RootElement);
        Assert.True(result.Error is null, result.Error?.ToString());
        return result.OutputJson!;
    }
}
