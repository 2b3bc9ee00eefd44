using FlyteSharp.Bundles;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>Reusable environments in container mode, on real podman: replicas, crashes, idle TTL, run end, reloads, the bound.</summary>
public class ReusableContainerTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    // The container's hostname is the first 12 hex digits of its ID (podman's default); the pid names the interpreter.
    private const string WhoAmI = """
        import os, socket, time

        calls = 0

        def whoami(i: int) -> str:
            global calls
            calls += 1
            return f"{socket.gethostname()}:{os.getpid()}:{calls}"

        def slow(i: int) -> str:
            start = time.time()
            time.sleep(0.4)
            return f"{socket.gethostname()}|{start}|{time.time()}"

        def doom(i: int) -> str:
            open("/tmp/doomed", "w").close()
            return socket.gethostname()

        def crash_if_doomed(i: int) -> str:
            if os.path.exists("/tmp/doomed"):
                import signal
                os.kill(os.getpid(), signal.SIGKILL)  # the interpreter dies mid-action
            return socket.gethostname()
        """;

    [Fact]
    public async Task Run_SequentialActions_ShareOneContainerAndRunEndRemovesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/who.py", WhoAmI);
        var env = new TaskEnvironment("reuse", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 2));
        var who = env.PythonTask<int, string>("app.who:whoami");
        var runName = "reuse-seq-" + Guid.NewGuid().ToString("N")[..8];
        var seenByPodman = new List<string>();
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var results = new List<string>();
            for (var i = 0; i < n; i++)
            {
                results.Add(await who.InvokeAsync(i));
            }

            seenByPodman.AddRange(await ContainerIdsAsync(runName));
            return string.Join(",", results);
        });

        var run = await project.Runtime.Run(pipeline, 5, new RunOptions { Mode = ExecutionMode.Container, Name = runName, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.Equal(RunStatus.Succeeded, status);
        var calls = (await run.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')).ToArray();
        Assert.Equal(5, calls.Length);
        Assert.Single(calls.Select(c => c[0]).Distinct());          // one container
        Assert.Single(calls.Select(c => c[1]).Distinct());          // one interpreter
        Assert.Equal(["1", "2", "3", "4", "5"], calls.Select(c => c[2])); // its module state carried over
        var id = Assert.Single(seenByPodman);
        Assert.StartsWith(calls[0][0], id, StringComparison.Ordinal);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + runName));
        Assert.All((await run.GetActionsAsync(ct)).Where(a => a.Task.EndsWith("whoami", StringComparison.Ordinal)), a => Assert.Contains("reusable", a.Host));
    }

    [Fact]
    public async Task Run_ReplicaKilledMidAction_RetriedOnANewReplica()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/who.py", WhoAmI);
        var env = new TaskEnvironment("reusecrash", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var doom = env.PythonTask<int, string>("app.who:doom");
        var crash = env.PythonTask<int, string>("app.who:crash_if_doomed", new TaskOptions { Retries = 1, RetryBackoff = TimeSpan.Zero });
        var pipeline = env.Task("pipeline", async (int n) => await doom.InvokeAsync(n) + "," + await crash.InvokeAsync(n));

        var run = await project.Runtime.Run(pipeline, 1, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.True(status == RunStatus.Succeeded, run.Error?.ToString());
        var hosts = (await run.GetOutputAsync(ct)).Split(',');
        Assert.NotEqual(hosts[0], hosts[1]); // the retry ran in a fresh container
        var crashed = Assert.Single(await run.GetActionsAsync(ct), a => a.Task.EndsWith("crash_if_doomed", StringComparison.Ordinal));
        Assert.Equal(2, crashed.Attempts);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_ReplicaIdleLongerThanTtl_IsRemovedBeforeTheRunEnds()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/who.py", WhoAmI);
        var env = new TaskEnvironment("reusettl", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1, IdleTtl: TimeSpan.FromSeconds(1)));
        var who = env.PythonTask<int, string>("app.who:whoami");
        var runName = "reuse-ttl-" + Guid.NewGuid().ToString("N")[..8];
        int aliveAfterCall = -1, aliveAfterIdle = -1;
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var first = await who.InvokeAsync(1);
            var second = await who.InvokeAsync(2); // within the TTL: the same replica
            aliveAfterCall = (await ContainerIdsAsync(runName)).Count;
            await Task.Delay(TimeSpan.FromSeconds(5));
            aliveAfterIdle = (await ContainerIdsAsync(runName)).Count;
            return first + "," + second + "," + await who.InvokeAsync(3);
        });

        var run = await project.Runtime.Run(pipeline, 0, new RunOptions { Mode = ExecutionMode.Container, Name = runName, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.Equal(RunStatus.Succeeded, status);
        Assert.Equal(1, aliveAfterCall);
        Assert.Equal(0, aliveAfterIdle);
        var hosts = (await run.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')[0]).ToArray();
        Assert.Equal(hosts[0], hosts[1]);
        Assert.NotEqual(hosts[0], hosts[2]); // after the idle TTL the call needed a new replica
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + runName));
    }

    [Fact]
    public async Task Run_ManyConcurrentCalls_NeverMoreReplicasThanTheBound()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/who.py", WhoAmI);
        var env = new TaskEnvironment("reusebound", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 2));
        var slow = env.PythonTask<int, string>("app.who:slow");
        var pipeline = env.Task("pipeline", async (int n) => string.Join(",", await Task.WhenAll(Enumerable.Range(0, n).Select(i => slow.InvokeAsync(i)))));

        var run = await project.Runtime.Run(pipeline, 8, new RunOptions { Mode = ExecutionMode.Container, MaxConcurrency = 16, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.True(status == RunStatus.Succeeded, run.Error?.ToString());
        var output = await run.GetOutputAsync(ct);
        var calls = output.Split(',').Select(c => c.Split('|'))
            .Select(p => (Host: p[0], Start: double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture), End: double.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(8, calls.Length);
        Assert.True(calls.Select(c => c.Host).Distinct().Count() == 2, output);
        // At no moment did more than two calls run at once (each replica runs one at a time).
        var most = calls.Max(c => calls.Count(o => o.Start <= c.Start && c.Start < o.End));
        Assert.InRange(most, 1, 2);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_CodeEditWithTheSameImage_ReusesTheContainerWithANewInterpreter()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ver.py", "import os, socket\ncalls = 0\ndef version(i: int) -> str:\n    global calls\n    calls += 1\n    return f\"v1:{socket.gethostname()}:{calls}\"\n");
        var env = new TaskEnvironment("reuseglobal", Image.FromDebianBase("3.11").WithCodeBundle(),
            reuse: new ReusePolicy(Replicas: 1, IdleTtl: TimeSpan.FromMinutes(5), Scope: ReuseScope.Global));
        var version = env.PythonTask<int, string>("app.ver:version");
        var twice = env.Task("twice", async (int n) => await version.InvokeAsync(n) + "," + await version.InvokeAsync(n));
        var options = new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct };
        var first = await project.Runtime.Run(twice, 1, options);
        Assert.Equal(RunStatus.Succeeded, await first.WaitAsync(ct));
        var firstName = first.Name;
        try
        {
            var kept = await Podman.ContainersAsync("flytesharp-" + firstName);
            project.WritePython("app/ver.py", "import os, socket\ncalls = 0\ndef version(i: int) -> str:\n    global calls\n    calls += 1\n    return f\"v2:{socket.gethostname()}:{calls}\"\n");

            var second = await project.Runtime.Run(twice, 1, options);
            Assert.Equal(RunStatus.Succeeded, await second.WaitAsync(ct));

            Assert.Single(kept); // the shared replica outlived its first run
            Assert.NotEqual(first.BundleDigest, second.BundleDigest);
            var a = (await first.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')).ToArray();
            var b = (await second.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')).ToArray();
            Assert.Equal(["v1", "v1", "v2", "v2"], a.Concat(b).Select(c => c[0]));   // the edit took effect
            Assert.Single(a.Concat(b).Select(c => c[1]).Distinct());                    // in the same container
            Assert.Equal(["1", "2", "1", "2"], a.Concat(b).Select(c => c[2]));       // with a fresh interpreter for the new code
        }
        finally
        {
            Assert.Empty(await ReplicaPools.DisposeAllAsync());
        }

        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + firstName));
    }

    [Fact]
    public async Task Run_CallTimesOutOnAReplica_ReplicaKilledAndRemovedAndTheNextCallGetsANewOne()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/who.py", WhoAmI + "\n\ndef hang(i: int) -> str:\n    time.sleep(120)\n    return 'never'\n");
        var env = new TaskEnvironment("reusetimeout", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var who = env.PythonTask<int, string>("app.who:whoami");
        var hang = env.PythonTask<int, string>("app.who:hang", new TaskOptions { Timeout = TimeSpan.FromSeconds(2) });
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var before = await who.InvokeAsync(n);
            try
            {
                await hang.InvokeAsync(n);
                return "hang returned";
            }
            catch (TaskTimeoutException)
            {
                return before + "," + await who.InvokeAsync(n);
            }
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var run = await project.Runtime.Run(pipeline, 1, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.True(status == RunStatus.Succeeded, run.Error?.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the run took {clock.Elapsed}: the hung replica was waited for");
        var hosts = (await run.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')[0]).ToArray();
        Assert.NotEqual(hosts[0], hosts[1]); // the timed-out replica was never handed out again
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_ReplicaOverItsMemoryLimit_FailsAsOutOfMemory()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/hog.py", "def hog(mb: int) -> int:\n    blocks = [bytearray(1024 * 1024) for _ in range(mb)]\n    return len(blocks)\n");
        var env = new TaskEnvironment("reusehog", Image.FromDebianBase("3.11").WithCodeBundle(), new Resources(Memory: "48Mi"), reuse: new ReusePolicy(Replicas: 1));
        var hog = env.PythonTask<int, int>("app.hog:hog");

        var run = await project.Runtime.Run(hog, 400, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.Equal(RunStatus.Failed, status);
        var oom = Assert.IsType<ContainerOutOfMemoryException>(Unwrap(run.Error));
        Assert.Equal("48Mi", oom.MemoryLimit);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_ReplicaWithSecrets_TaskGetsThemAndInspectShowsNoValue()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var value = "sv-" + Guid.NewGuid().ToString("N");
        var secrets = Path.Combine(project.Config.Home, "secrets");
        Directory.CreateDirectory(secrets);
        await File.WriteAllTextAsync(Path.Combine(secrets, "api_token"), value, ct);
        await File.WriteAllTextAsync(Path.Combine(secrets, "cert"), value + "-cert", ct);
        project.WritePython("app/use.py", "import os\ndef use(i: int) -> str:\n    return os.environ['API_TOKEN'] + '|' + open('/etc/app/certs/cert').read()\n");
        var env = new TaskEnvironment("reusesec", Image.FromDebianBase("3.11").WithCodeBundle(),
            secrets: [new Secret("api_token"), new Secret("cert", Mount: "/etc/app/certs")], reuse: new ReusePolicy(Replicas: 1));
        var use = env.PythonTask<int, string>("app.use:use");
        var runName = "reuse-sec-" + Guid.NewGuid().ToString("N")[..8];
        var inspect = "";
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var first = await use.InvokeAsync(n);
            foreach (var id in await ContainerIdsAsync(runName))
            {
                inspect += (await Podman.RunAsync("inspect", id)).Output;
            }

            return first + "," + await use.InvokeAsync(n);
        });

        var run = await project.Runtime.Run(pipeline, 1, new RunOptions { Mode = ExecutionMode.Container, Name = runName, CancellationToken = ct });
        Assert.Equal(RunStatus.Succeeded, await run.WaitAsync(ct));

        Assert.Equal($"{value}|{value}-cert,{value}|{value}-cert", await run.GetOutputAsync(ct));
        Assert.Contains("/etc/app/certs/cert", inspect);
        Assert.DoesNotContain(value, inspect, StringComparison.Ordinal);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + runName));
    }

    [Fact]
    public async Task DisposeAllLive_ExecutorNotDisposed_RemovesItsReplicasAsOnProcessExit()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/who.py", WhoAmI);
        var env = new TaskEnvironment("reuseexit", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 2, IdleTtl: Timeout.InfiniteTimeSpan));
        var who = env.PythonTask<int, string>("app.who:whoami");
        var bundle = await CodeBundler.CreateAsync(project.SrcDir, BundleOptions.For(project.Config), ct);
        var sandbox = Path.Combine(project.Root, "sandbox");
        var context = new PythonExecutorContext("reuse-exit-" + Guid.NewGuid().ToString("N")[..8], sandbox,
            new PythonBundle(bundle.Digest, null, new Uri(bundle.ArchivePath).AbsoluteUri, sandbox), project.Config, project.SrcDir);
        var executor = ContainerPythonExecutor.Create(context);

        // A program that ends right after its output is read never disposes the executor: the exit hook runs this instead.
        var result = await executor.ExecuteAsync(new PythonTaskRequest(who.Python!, env, "{\"i\": 1}", "a1", (_, _) => { }), ct);
        var aliveBefore = await ContainerIdsAsync(context.RunName);
        var failures = await ReusableEnvironments.DisposeAllLiveAsync();
        var aliveAfter = await ContainerIdsAsync(context.RunName);
        await executor.DisposeAsync();

        Assert.StartsWith("\"", result.OutputJson);
        Assert.Single(aliveBefore);
        Assert.Empty(failures);
        Assert.Empty(aliveAfter);
    }

    [Fact]
    public async Task Run_ImageWithoutWorkingPython_ReplicaStartSaysTheRunnerCannotStart()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def one() -> int:\n    return 1\n");
        var env = new TaskEnvironment("reusebroken", Image.FromDebianBase("3.11").WithCommands("rm -f /usr/bin/python3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var one = env.PythonTask<int>("app.ops:one");

        var run = await project.Runtime.Run(one, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.Equal(RunStatus.Failed, status);
        var message = run.Error!.ToString();
        Assert.Contains("could not start FlyteSharp's Python runner in a reusable container", message);
        Assert.Contains("environment 'reusebroken'", message);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task ExecuteAsync_BundleInStoreDoesNotMatchDigest_ReplicaRefusesItAndIsRemoved()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def one() -> int:\n    return 1\n");
        var env = new TaskEnvironment("reusetamper", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var one = env.PythonTask<int>("app.ops:one");
        var bundle = await CodeBundler.CreateAsync(project.SrcDir, BundleOptions.For(project.Config), ct);
        var tampered = Path.Combine(project.Root, "tampered.tar.gz");
        var bytes = await File.ReadAllBytesAsync(bundle.ArchivePath, ct);
        bytes[^5] ^= 0xff;
        await File.WriteAllBytesAsync(tampered, bytes, ct);
        var sandbox = Path.Combine(project.Root, "sandbox");
        var context = new PythonExecutorContext("reuse-tamper-" + Guid.NewGuid().ToString("N")[..8], sandbox,
            new PythonBundle(bundle.Digest, null, new Uri(tampered).AbsoluteUri, sandbox), project.Config, project.SrcDir);
        var executor = ContainerPythonExecutor.Create(context);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => executor.ExecuteAsync(new PythonTaskRequest(one.Python!, env, "{}", "a1", (_, _) => { }), ct));
        await executor.DisposeAsync();

        Assert.Contains("refused the code bundle", ex.Message);
        Assert.Contains("refusing to unpack", ex.Message);
        Assert.Empty(await ContainerIdsAsync(context.RunName));
    }

    private static Exception? Unwrap(Exception? ex)
    {
        while (ex is not null and not ContainerOutOfMemoryException && ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    private static async Task<IReadOnlyList<string>> ContainerIdsAsync(string runName)
    {
        var (_, output) = await Podman.RunAsync("ps", "--all", "--no-trunc", "--filter", $"label={ContainerLabels.Run}={runName}", "--format", "{{.ID}}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
