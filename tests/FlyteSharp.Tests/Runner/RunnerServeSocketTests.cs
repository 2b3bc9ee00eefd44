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
        import os, subprocess, sys, threading, time

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

        def shell(x: int) -> int:
            subprocess.run(["sh", "-c", f"echo fd-out-{x}; echo fd-err-{x} >&2; printf unfinished-{x}"], check=True)
            return x

        def flood(x: int) -> int:
            # More than a pipe holds (64 KiB), written by a child the task waits for: the runner must read meanwhile.
            subprocess.run(["sh", "-c", f"i=0; while [ $i -lt {x} ]; do echo line-$i-abcdefghijklmnopqrstuvwxyz; i=$((i+1)); done"], check=True)
            return x

        def close_fds(x: int) -> int:
            os.close(1)
            os.close(2)
            return subprocess.run(["sh", "-c", "echo nowhere; echo nowhere >&2"]).returncode

        def replace_fds(x: int) -> int:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.close(null)
            subprocess.run(["sh", "-c", "echo into-devnull; echo into-devnull >&2"], check=True)
            return x

        def binary(x: int) -> int:
            os.write(1, b"bin\xff\xfe\x00ary\n")
            os.write(2, b"z" * 10_000_000)  # one 10 MB line without a newline
            return x

        def linger(x: int) -> int:
            # Leaves its session (not killed when the call ends) and keeps writing after the call returned.
            done = os.environ["SOCKET_PATH"] + ".done"
            subprocess.Popen(["sh", "-c", f"sleep 1; i=0; while [ $i -lt 3000 ]; do echo late-$i; i=$((i+1)); done; touch {done}"],
                             start_new_session=True)
            return x

        def close_pipes(x: int) -> int:
            # The runner's own ends of the pipes behind fds 1/2 (the same pipe as the fds, under other numbers).
            ours = {os.readlink("/proc/self/fd/1"), os.readlink("/proc/self/fd/2")}
            for fd in os.listdir("/proc/self/fd"):
                try:
                    if int(fd) > 2 and os.readlink(f"/proc/self/fd/{fd}") in ours:
                        os.close(int(fd))
                except OSError:
                    pass
            return x

        def nap(x: int) -> int:
            time.sleep(x / 1000)
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
    public async Task Serve_SubprocessWritesToTheDescriptors_LinesArriveAsTheCallsLogOnTheirStreamsBeforeItsReply()
    {
        using var connection = await StartAsync();

        for (var x = 0; x < 20; x++)
        {
            var logged = new List<(string Stream, string Line)>();
            Assert.Equal(x.ToString(System.Globalization.CultureInfo.InvariantCulture), await CallAsync(connection, "app.ops:shell", x, (stream, line) => logged.Add((stream, line))));

            // Every line of this call's child was forwarded before the reply (an unfinished last line when the call ended).
            Assert.Equal([("stdout", $"fd-out-{x}"), ("stdout", $"unfinished-{x}")], logged.Where(l => l.Stream == "stdout"));
            Assert.Equal([("stderr", $"fd-err-{x}")], logged.Where(l => l.Stream == "stderr"));
        }
    }

    [Fact]
    public async Task Serve_SubprocessWritesMoreThanAPipeHolds_NoDeadlockAndEveryLineArrivesInOrder()
    {
        using var connection = await StartAsync();
        var logged = new List<string>();

        Assert.Equal("20000", await CallAsync(connection, "app.ops:flood", 20000, (_, line) => logged.Add(line)));

        Assert.Equal(Enumerable.Range(0, 20000).Select(i => $"line-{i}-abcdefghijklmnopqrstuvwxyz"), logged);
    }

    [Fact]
    public async Task Serve_TaskClosesOrReplacesFdsOneAndTwo_LaterCallsStillForwardTheirDescriptorOutput()
    {
        using var connection = await StartAsync();
        var logged = new List<(string Stream, string Line)>();

        Assert.NotEqual("0", await CallAsync(connection, "app.ops:close_fds", 1, (stream, line) => logged.Add((stream, line)))); // the child had no fd 1
        Assert.Equal("2", await CallAsync(connection, "app.ops:replace_fds", 2, (stream, line) => logged.Add((stream, line))));
        Assert.Empty(logged);
        Assert.Equal("3", await CallAsync(connection, "app.ops:shell", 3, (stream, line) => logged.Add((stream, line))));

        Assert.Equal([("stdout", "fd-out-3"), ("stderr", "fd-err-3"), ("stdout", "unfinished-3")], logged.OrderBy(l => l.Line.StartsWith('u')).ToList());
    }

    [Fact]
    public async Task Serve_TaskClosesTheRunnersOwnPipeEnds_RunnerKeepsServingAndLaterOutputGoesToItsStderrWithoutBlocking()
    {
        var stderr = new List<string>();
        using var connection = await StartAsync(stderr);
        var logged = new List<string>();

        Assert.Equal("1", await CallAsync(connection, "app.ops:close_pipes", 1));
        // More than a pipe holds: had fds 1/2 stayed on pipes nobody reads, this call would never end.
        Assert.Equal("20000", await CallAsync(connection, "app.ops:flood", 20000, (_, line) => logged.Add(line)));
        Assert.Equal("3", await CallAsync(connection, "app.ops:add", 2));

        Assert.Empty(logged);
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(30) && !Snapshot(stderr).Contains("line-19999-abcdefghijklmnopqrstuvwxyz"))
        {
            await Task.Delay(20, Token);
        }

        var lines = Snapshot(stderr);
        Assert.Contains(lines, l => l.Contains("goes to this replica's log from now on", StringComparison.Ordinal));
        Assert.Contains("line-19999-abcdefghijklmnopqrstuvwxyz", lines);
    }

    private static List<string> Snapshot(List<string> lines)
    {
        lock (lines)
        {
            return [.. lines];
        }
    }

    [Fact]
    public async Task Serve_BinaryGarbageAndATenMegabyteLineAtTheDescriptors_EscapedAndCutIntoBoundedPieces()
    {
        using var connection = await StartAsync();
        var logged = new List<(string Stream, string Line)>();

        Assert.Equal("1", await CallAsync(connection, "app.ops:binary", 1, (stream, line) => logged.Add((stream, line))));

        Assert.Equal([("stdout", "bin\\xff\\xfe\0ary")], logged.Where(l => l.Stream == "stdout"));
        var pieces = logged.Where(l => l.Stream == "stderr").Select(l => l.Line).ToList();
        Assert.All(pieces, p => Assert.True(p.Length <= FlyteSharp.Runs.RunStoreWriter.MaxLogChunkChars, $"{p.Length} characters"));
        Assert.Equal(10_000_000, pieces.Sum(p => p.Length));
        Assert.All(pieces, p => Assert.Equal(p.Length, p.Count(c => c == 'z')));
        Assert.Equal("2", await CallAsync(connection, "app.ops:add", 1)); // the protocol is intact
    }

    [Fact]
    public async Task Serve_BackgroundProcessWritesAfterItsCallEnded_NeverBlocksEachLineOnceInACallOrTheReplicasLog()
    {
        var stderr = new List<string>();
        using var connection = await StartAsync(stderr);
        var first = new List<string>();
        var later = new List<string>();

        Assert.Equal("1", await CallAsync(connection, "app.ops:linger", 1, (_, line) => first.Add(line)));
        var calls = 0;
        var waited = Stopwatch.StartNew();
        while (!File.Exists(SocketPath + ".done"))
        {
            // Calls keep being answered while the orphan writes; its lines go to whichever call runs, or between calls
            // to the runner's stderr (the replica's log).
            Assert.Equal("20", await CallAsync(connection, "app.ops:nap", 20, (_, line) => later.Add(line)));
            calls++;
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "the orphan never finished writing");
        }

        Assert.Equal("20", await CallAsync(connection, "app.ops:nap", 20, (_, line) => later.Add(line)));
        var expected = Enumerable.Range(0, 3000).Select(i => $"late-{i}").ToList();
        List<string> seen;
        do
        {
            await Task.Delay(20, Token);
            seen = [.. later, .. Snapshot(stderr).Where(l => l.StartsWith("late-", StringComparison.Ordinal))];
        }
        while (seen.Count < expected.Count && waited.Elapsed < TimeSpan.FromSeconds(90));

        Assert.Empty(first);
        Assert.True(calls > 1, $"{calls} calls");
        Assert.All(later, l => Assert.StartsWith("late-", l, StringComparison.Ordinal));
        Assert.Equal(expected.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal)); // each line exactly once, none lost
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
        var bundle = await BundleAsync("v2", """
            import subprocess

            def add(x: int) -> int:
                return x + 100

            def echo(x: int) -> int:
                subprocess.run(["sh", "-c", f"echo v2-out-{x}; echo v2-err-{x} >&2"], check=True)
                return x
            """);

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
        var logged = new List<(string Stream, string Line)>();
        Assert.Equal("5", await CallAsync(connection, "app.ops:echo", 5, (stream, line) => logged.Add((stream, line))));
        Assert.Equal([("stderr", "v2-err-5"), ("stdout", "v2-out-5")], logged.OrderBy(l => l.Stream).ToList()); // the new interpreter forwards its descriptors too
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

    private async Task<ReplicaConnection> StartAsync(List<string>? stderr = null)
    {
        var bundle = await BundleAsync("v1", Ops);
        var dir = Path.Combine(_root, "bundles", "a");
        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, dir, cancellationToken: Token);
        var runner = Path.Combine(_root, PythonRunnerScript.FileName);
        await File.WriteAllBytesAsync(runner, PythonRunnerScript.Bytes, Token);
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = stderr is not null, UseShellExecute = false };
        foreach (var argument in (string[])[runner, "--bundle-dir", dir, "--serve", "--serve-socket", SocketPath])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SOCKET_PATH"] = SocketPath;
        var process = Process.Start(start)!;
        _processes.Add(process);
        if (stderr is not null)
        {
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (stderr)
                    {
                        stderr.Add(e.Data);
                    }
                }
            };
            process.BeginErrorReadLine();
        }

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
