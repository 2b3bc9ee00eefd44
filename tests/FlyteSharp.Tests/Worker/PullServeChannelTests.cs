using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Runs;
using FlyteSharp.Worker;

namespace FlyteSharp.Tests.Worker;

/// <summary>
/// The .NET worker's pull serve loop (<c>--serve-pull</c>, what a reusable Pod runs): the real worker process against
/// the real controller API server over TCP (requests pulled from a replica mailbox, replies posted back, 410 ends it, a
/// wrong token is refused), and against a HOSTILE controller — a raw TCP server of the test's own, since the real driver
/// never answers garbage — whose answers must end the worker with a one-line reason, never a stack trace or a hang.
/// </summary>
public sealed class PullServeChannelTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flytesharp-tests", "worker-pull-" + Guid.NewGuid().ToString("n"));
    private readonly List<(RunController Run, RunStoreWriter Writer, ControllerServer Server)> _runs = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_root, "app"));
        Directory.CreateDirectory(Path.Combine(_root, "packages"));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (run, writer, server) in _runs)
        {
            await server.DisposeAsync();
            run.Dispose();
            await writer.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task ServePull_RealController_AnswersEachPulledRequest_MalformedOnesWithAProtocolError_410EndsItWithExitCode0()
    {
        var server = Start();
        var mailbox = server.OpenReplica("r");
        using var worker = StartWorker(server.Address.Text, mailbox.Id, TokenFile(server.Token.Value));
        try
        {
            using var ping = await mailbox.SendAsync(new() { ["op"] = "describe", ["tasks"] = Array.Empty<string>() }, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            using var malformed = await mailbox.SendAsync(new() { ["op"] = "call", ["task"] = 7, ["assembly"] = "App.dll" }, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            using var unknown = await mailbox.SendAsync(new() { ["op"] = "dance" }, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            mailbox.Dispose();
            var (code, stderr) = await worker.EndAsync();

            Assert.True(ping.RootElement.GetProperty("ok").GetBoolean());
            Assert.Equal(1, ping.RootElement.GetProperty("id").GetInt64());
            Assert.Equal(WorkerServe.ProtocolError, malformed.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.StartsWith("\"task\" must be a string, not a JSON number", malformed.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.StartsWith("unknown op 'dance'", unknown.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(0, code);
            Assert.Contains("flytesharp-worker: the driver retired this replica; stopping", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(server.Token.Value, stderr, StringComparison.Ordinal);
        }
        finally
        {
            worker.Kill();
        }
    }

    [Fact]
    public async Task ServePull_SigtermWhileThePollWaits_EndsAtOnceWithExitCode0()
    {
        // A Pod's deletion sends SIGTERM: the worker must not sit out its long poll until the kill after the grace period.
        var server = Start();
        using var mailbox = server.OpenReplica("r");
        using var worker = StartWorker(server.Address.Text, mailbox.Id, TokenFile(server.Token.Value));
        using var ping = await mailbox.SendAsync(new() { ["op"] = "describe", ["tasks"] = Array.Empty<string>() }, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await Task.Delay(300, Ct); // its next poll is waiting in the driver

        var sent = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", worker.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(Ct);
        }

        var (code, stderr) = await worker.EndAsync();

        Assert.Equal(0, code);
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(10), $"ended {sent.Elapsed} after SIGTERM");
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServePull_ReplyLargerThanMaxReplyBytes_IsReplacedByASmallErrorWithTheSameId()
    {
        var server = Start();
        using var mailbox = server.OpenReplica("r");
        using var worker = StartWorker(server.Address.Text, mailbox.Id, TokenFile(server.Token.Value));
        try
        {
            using var first = await mailbox.SendAsync(new() { ["op"] = "describe", ["tasks"] = Array.Empty<string>() }, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            using var limited = await mailbox.SendAsync(new() { ["op"] = "describe", ["tasks"] = Array.Empty<string>(), ["max_reply_bytes"] = 10 }, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);

            Assert.True(first.RootElement.GetProperty("ok").GetBoolean());
            Assert.Equal(2, limited.RootElement.GetProperty("id").GetInt64());
            Assert.False(limited.RootElement.GetProperty("ok").GetBoolean());
            Assert.Equal(PullServeChannel.ReplyTooLargeError, limited.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Contains("more than the 10 bytes the driver accepts from a Pod", limited.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            worker.Kill();
        }
    }

    [Fact]
    public async Task ServePull_WrongToken_RefusedWith401_ExitCode4WithoutPrintingAToken()
    {
        var server = Start();
        using var mailbox = server.OpenReplica("r");
        const string wrong = "not-the-run-token-0123456789";
        using var worker = StartWorker(server.Address.Text, mailbox.Id, TokenFile(wrong));

        var (code, stderr) = await worker.EndAsync();

        Assert.Equal(PullServeChannel.StoppedExitCode, code);
        Assert.Contains($"the driver at {server.Address.Text.TrimEnd('/')} refused this replica's poll (HTTP 401)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Token.Value, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServePull_UnusableTokenFile_UsageExitCodeNamingTheFile()
    {
        var empty = TokenFile("  \n");
        using var worker = StartWorker("http://127.0.0.1:9", "r", empty);

        var (code, stderr) = await worker.EndAsync();

        Assert.Equal(2, code);
        Assert.Contains("the controller token file holds no usable token", stderr, StringComparison.Ordinal);
        Assert.Contains(empty, stderr, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> HostileAnswers => new()
    {
        { "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n%%% garbage %%", "answered a poll with something that is not JSON: %%% garbage %%" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n[1, 2]", "answered a poll with JSON that is not a serve request (no numeric \"id\")" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\xff\xfe{}", "answered a poll with something that is not JSON" },
        { "HTTP/1.1 500 Oops\r\nContent-Length: 20\r\n\r\n\u001b[31mred\u001b[0m\r\nboom!!", "refused this replica's poll (HTTP 500): ?[31mred?[0m??boom!!; stopping" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n{", "sent a request larger than 67108864 bytes" },
        { "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/v1/replicas/r/next\r\nContent-Length: 0\r\n\r\n", "refused this replica's poll (HTTP 307): (empty body); stopping" },
    };

    [Theory]
    [MemberData(nameof(HostileAnswers))]
    public async Task ServePull_HostileControllerAnswer_StopsWithExitCode4AndAOneLineReason(string answer, string expected)
    {
        await using var hostile = HostileController.Start(_ => Encoding.Latin1.GetBytes(answer));
        using var worker = StartWorker(hostile.Url, "r", TokenFile("a-token-of-the-run-0123456789"));

        var (code, stderr) = await worker.EndAsync();

        Assert.Equal(PullServeChannel.StoppedExitCode, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServePull_EndlessChunkedBody_IsNotHeldWhole_StopsNamingTheBound()
    {
        // An answer without a length that never ends: read up to the bound (64 MiB) and no further.
        await using var hostile = HostileController.Start(async stream =>
        {
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray());
            var chunk = Encoding.ASCII.GetBytes("100000\r\n" + new string(' ', 0x100000) + "\r\n");
            for (var i = 0; i < 200; i++)
            {
                await stream.WriteAsync(chunk);
            }
        });
        using var worker = StartWorker(hostile.Url, "r", TokenFile("a-token-of-the-run-0123456789"));

        var (code, stderr) = await worker.EndAsync();

        Assert.Equal(PullServeChannel.StoppedExitCode, code);
        Assert.Contains("sent a request larger than 67108864 bytes; stopping", stderr, StringComparison.Ordinal);
        Assert.True(worker.PeakWorkingSet < 600L * 1024 * 1024, $"peak working set {worker.PeakWorkingSet} bytes");
    }

    [Fact]
    public async Task ServePull_NotHttpAtAll_RetriedUntilTheGiveUp_ThenStopsSayingUnreachable()
    {
        await using var hostile = HostileController.Start(_ => "SSH-2.0-OpenSSH_9.6\r\n"u8.ToArray());
        using var worker = StartWorker(hostile.Url, "r", TokenFile("a-token-of-the-run-0123456789"), "--pull-give-up", "1");

        var (code, stderr) = await worker.EndAsync();

        Assert.Equal(PullServeChannel.StoppedExitCode, code);
        Assert.Contains($"the driver's controller at {hostile.Url} is unreachable (", stderr, StringComparison.Ordinal);
        Assert.Contains("for 1 s; stopping", stderr, StringComparison.Ordinal);
        Assert.True(hostile.Connections > 1, "the poll was retried");
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_WhileThePollWaits_HeartbeatsGoToTheReplicasEndpointWithTheToken()
    {
        const string token = "a-token-of-the-run-0123456789";
        await using var hostile = HostileController.Start(async (head, stream) =>
        {
            if (head.StartsWith("GET ", StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromSeconds(30)); // a long poll with no work
            }

            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        });
        var interval = PullServeChannel.HeartbeatInterval;
        PullServeChannel.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
        try
        {
            var arguments = WorkerArguments.Parse(["--serve-pull", hostile.Url, "--replica", "r 1/x", "--controller-token-file", TokenFile(token)]);
            using var channel = PullServeChannel.Open(arguments, TextWriter.Null);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var read = channel.ReadAsync(stop.Token);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (hostile.Requests.Count(r => r.Contains("/heartbeat", StringComparison.Ordinal)) < 3 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, Ct);
            }

            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);

            Assert.Contains("GET /v1/replicas/r%201%2Fx/next HTTP/1.1", hostile.Requests);
            Assert.True(hostile.Requests.Count(r => r == "POST /v1/replicas/r%201%2Fx/heartbeat HTTP/1.1") >= 3, string.Join("\n", hostile.Requests));
        }
        finally
        {
            PullServeChannel.HeartbeatInterval = interval;
        }
    }

    [Fact]
    public async Task ServePull_StartingBundleStillDownloading_NoHeartbeatReachesTheDriverBeforeTheFirstPoll()
    {
        // The driver counts a replica Pod as started at its first contact; a heartbeat sent while the starting bundle is
        // still downloading would make a bundle the worker then refuses look like a worker dying mid-call.
        var server = Start();
        using var mailbox = server.OpenReplica("r");
        using var registry = new TcpListener(IPAddress.Loopback, 0);
        registry.Start();
        var held = new List<TcpClient>();
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                held.Add(await registry.AcceptTcpClientAsync(Ct)); // a store that never answers
            }
        }, Ct);
        var interval = PullServeChannel.HeartbeatInterval;
        PullServeChannel.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
        try
        {
            var port = ((IPEndPoint)registry.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var stderr = new StringWriter();
            var worker = DotnetWorker.RunAsync(
                ["--serve-pull", server.Address.Text, "--replica", mailbox.Id, "--controller-token-file", TokenFile(server.Token.Value),
                 "--bundle", $"http://127.0.0.1:{port}/v2/code/blobs/sha256:{new string('0', 64)}", "--digest", "sha256:" + new string('0', 64),
                 "--bundle-dir", Path.Combine(_root, "bundle"), "--app-dir", Path.Combine(_root, "app"), "--packages-dir", Path.Combine(_root, "packages")],
                TextWriter.Null, stderr, Ct);

            var contact = await Task.WhenAny(mailbox.FirstContact, worker, Task.Delay(TimeSpan.FromSeconds(2), Ct));
            registry.Stop();
            foreach (var client in held.ToArray())
            {
                client.Dispose();
            }

            var code = await worker.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.NotSame(mailbox.FirstContact, contact);
            Assert.False(mailbox.FirstContact.IsCompleted, "the driver heard from a replica whose bundle never arrived");
            Assert.Equal(FlyteSharp.Runner.RunnerProtocol.BundleRefusedExitCode, code);
            Assert.Contains("cannot download the .NET bundle", stderr.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            PullServeChannel.HeartbeatInterval = interval;
            registry.Stop();
            await Assert.ThrowsAnyAsync<Exception>(() => accepting);
        }
    }

    [Fact]
    public async Task ReadAsync_ControllerAnswers204AtOnce_PollsArePacedNotABusyLoop()
    {
        await using var hostile = HostileController.Start(_ => "HTTP/1.1 204 No Content\r\n\r\n"u8.ToArray());
        var arguments = WorkerArguments.Parse(["--serve-pull", hostile.Url, "--replica", "r", "--controller-token-file", TokenFile("a-token-of-the-run-0123456789")]);
        using var channel = PullServeChannel.Open(arguments, TextWriter.Null);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var read = channel.ReadAsync(stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        var polls = hostile.Requests.Count(r => r.StartsWith("GET ", StringComparison.Ordinal));
        Assert.InRange(polls, 2, 12);
    }

    [Theory]
    [InlineData(new[] { "--serve-pull", "http://127.0.0.1:1" }, "--serve-pull needs --replica and --controller-token-file")]
    [InlineData(new[] { "--serve-pull", "ftp://driver", "--replica", "r", "--controller-token-file", "/t" }, "--serve-pull 'ftp://driver' is not an http(s) URL")]
    [InlineData(new[] { "--serve-pull", "http://d:1", "--replica", "r", "--controller-token-file", "/t", "--pull-give-up", "-5" }, "--pull-give-up '-5' is not a number of seconds")]
    [InlineData(new[] { "--serve-pull", "http://d:1", "--replica", "r", "--controller-token-file", "/t", "--serve" }, "--serve and --serve-pull are two ways to serve")]
    [InlineData(new[] { "--serve", "--replica", "r" }, "--replica and --pull-give-up are for --serve-pull")]
    [InlineData(new[] { "--serve-pull", "http://d:1", "--replica", "r", "--controller-token-file", "/t", "--task", "x" }, "worker option --task is for a single call")]
    public void Parse_UnusablePullArguments_AreRefused(string[] args, string expected)
    {
        var error = Assert.Throws<FlyteSharpException>(() => WorkerArguments.Parse(args));

        Assert.StartsWith(expected, error.Reason, StringComparison.Ordinal);
    }

    private string TokenFile(string token)
    {
        var path = Path.Combine(_root, "token-" + Guid.NewGuid().ToString("n")[..8]);
        File.WriteAllText(path, token);
        return path;
    }

    private WorkerProcess StartWorker(string url, string replica, string tokenFile, params string[] extra)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "flytesharp-worker", "flytesharp-worker.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        string[] args = [dll, "--serve-pull", url, "--replica", replica, "--controller-token-file", tokenFile,
            "--app-dir", Path.Combine(_root, "app"), "--packages-dir", Path.Combine(_root, "packages"), .. extra];
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return new WorkerProcess(Process.Start(start)!);
    }

    private ControllerServer Start()
    {
        var name = "worker-pull-" + _runs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sandbox = Path.Combine(_root, name);
        Directory.CreateDirectory(sandbox);
        var config = new FlyteConfig { Home = Path.Combine(_root, "home") };
        var settings = new RunSettings(name, "http://localhost/runs/" + name, config, null, ExecutionMode.Kubernetes, 8, 8, TimeProvider.System, sandbox);
        var store = RunStore.Open(Path.Combine(_root, "home", "runs.db"));
        var writer = new RunStoreWriter(store, name);
        var run = new RunController(settings, store, writer, _ => throw new InvalidOperationException("not used"), CancellationToken.None);
        var server = ControllerServer.StartTcp(run, Path.Combine(sandbox, "controller"), "127.0.0.1:0", null, ControllerHttpLimits.Default);
        _runs.Add((run, writer, server));
        return server;
    }

    /// <summary>The worker as a process: its exit code and stderr, its peak memory; killed if a test leaves it running.</summary>
    private sealed class WorkerProcess(Process process) : IDisposable
    {
        private readonly Task<string> _stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        private readonly Task<string> _stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);

        public long PeakWorkingSet { get; private set; }

        public int Id => process.Id;

        public async Task<(int Code, string Stderr)> EndAsync()
        {
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested && !process.HasExited)
                {
                    try
                    {
                        process.Refresh();
                        PeakWorkingSet = Math.Max(PeakWorkingSet, process.PeakWorkingSet64);
                    }
                    catch (InvalidOperationException)
                    {
                        return;
                    }

                    await Task.Delay(50, CancellationToken.None);
                }
            }, CancellationToken.None);
            await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
            await sampling.CancelAsync();
            await sampler;
            return (process.ExitCode, await _stderr + await _stdout);
        }

        public void Kill()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        public void Dispose()
        {
            Kill();
            process.Dispose();
        }
    }

    /// <summary>A hostile "controller": a raw TCP server that reads a request's head and answers with whatever the test says.</summary>
    private sealed class HostileController : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private readonly List<string> _heads = [];
        private int _connections;

        private HostileController(Func<string, NetworkStream, Task> answer)
        {
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient client;
                    try
                    {
                        client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    Interlocked.Increment(ref _connections);
                    _ = Task.Run(async () =>
                    {
                        using (client)
                        {
                            try
                            {
                                var stream = client.GetStream();
                                var head = await ReadHeadAsync(stream);
                                lock (_heads)
                                {
                                    _heads.Add(head.Split('\r')[0]);
                                }

                                await answer(head, stream);
                            }
                            catch (IOException)
                            {
                                // The worker hung up (it stopped reading at its bound).
                            }
                        }
                    });
                }
            });
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public int Connections => Volatile.Read(ref _connections);

        /// <summary>Each request's first line, e.g. <c>POST /v1/replicas/r/heartbeat HTTP/1.1</c>.</summary>
        public IReadOnlyList<string> Requests
        {
            get
            {
                lock (_heads)
                {
                    return [.. _heads];
                }
            }
        }

        public static HostileController Start(Func<string, NetworkStream, Task> answer) => new(answer);

        public static HostileController Start(Func<NetworkStream, Task> answer) => new((_, stream) => answer(stream));

        public static HostileController Start(Func<string, byte[]> answer) => new(async (head, stream) => await stream.WriteAsync(answer(head)));

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _loop;
            _stop.Dispose();
        }

        private static async Task<string> ReadHeadAsync(NetworkStream stream)
        {
            var seen = new List<byte>();
            var one = new byte[1];
            while (await stream.ReadAsync(one) == 1)
            {
                seen.Add(one[0]);
                if (seen.Count >= 4 && seen[^1] == '\n' && seen[^2] == '\r' && seen[^3] == '\n' && seen[^4] == '\r')
                {
                    break;
                }
            }

            return Encoding.ASCII.GetString([.. seen]);
        }
    }
}
