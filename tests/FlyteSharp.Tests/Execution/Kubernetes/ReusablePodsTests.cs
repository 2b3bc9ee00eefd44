using System.Text.Json;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Kubernetes;
using FlyteSharp.Execution.Python;
using FlyteSharp.Images;
using FlyteSharp.Runner;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using k8s;

namespace FlyteSharp.Tests.Execution.Kubernetes;

/// <summary>
/// Reusable environments in kubernetes mode against a FAKE API server (<see cref="FakeKubernetesApi"/>): no Kubernetes API
/// server can run here. The fake plays each replica Pod by running its command on this machine — the real runner in its
/// pull serve loop, with the run's token Secret materialised as the mounted file — and the runner pulls its calls from
/// the run's real controller API server over TCP. Pool behaviour (reuse, a dying replica, idle TTL, run end) and the Pod
/// spec are checked.
/// </summary>
[Collection(nameof(PodReplica))] // tests that set PodReplica.SilenceLimit run one at a time
public sealed class ReusablePodsTests : IAsyncLifetime
{
    private const string RunName = "reuse-run-1";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flytesharp-tests", "k8s-reuse-" + Guid.NewGuid().ToString("n"));
    private readonly FakeKubernetesApi _api = new();
    private PythonExecutorContext _context = null!;
    private RunController _run = null!;
    private RunStore _store = null!;
    private RunStoreWriter _writer = null!;
    private ContainerImage _image = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var src = Path.Combine(_root, "src");
        Directory.CreateDirectory(Path.Combine(src, "app"));
        await File.WriteAllTextAsync(Path.Combine(src, "app", "__init__.py"), "", Token);
        await File.WriteAllTextAsync(Path.Combine(src, "app", "who.py"), """
            import os, sys

            calls = 0

            def whoami(i: int) -> str:
                global calls
                calls += 1
                print(f"call {i} on {os.getpid()}")
                print("to stderr", file=sys.stderr)
                return f"{os.getpid()}:{calls}:{os.environ.get('LEVEL')}"

            def die(i: int) -> str:
                os._exit(9)

            def stamp(i: int) -> str:
                import time
                start = time.time()
                time.sleep(0.3)
                return f"{os.getpid()}|{start}|{time.time()}"

            def sleepy(s: int) -> str:
                import time
                time.sleep(s)
                return "slept"
            """.ReplaceLineEndings("\n"), Token);
        var bundle = await CodeBundler.CreateAsync(src, new BundleOptions { CacheDirectory = Path.Combine(_root, "cache") }, Token);
        _api.AddBlob("flytesharp/bundles", bundle.Digest, await File.ReadAllBytesAsync(bundle.ArchivePath, Token));
        var config = new FlyteConfig
        {
            Home = Path.Combine(_root, "home"),
            StoreUri = $"oci://{_api.Host}/flytesharp/bundles",
            InsecureRegistries = [_api.Host],
            ControllerListen = "127.0.0.1:0",
            ControllerUrl = "http://127.0.0.1:{port}",
        };
        var sandbox = Path.Combine(_root, "sandbox");
        Directory.CreateDirectory(sandbox);
        var settings = new RunSettings(RunName, "http://localhost/runs/" + RunName, config, src, ExecutionMode.Kubernetes, 8, 8, TimeProvider.System, sandbox);
        _store = RunStore.Open(Path.Combine(_root, "home", "runs.db"));
        _writer = new RunStoreWriter(_store, RunName);
        _run = new RunController(settings, _store, _writer, _ => throw new InvalidOperationException("not used"), CancellationToken.None);
        _context = new PythonExecutorContext(RunName, sandbox,
            new PythonBundle(bundle.Digest, bundle.ArchivePath, $"oci://{_api.Host}/flytesharp/bundles@{bundle.Digest}", Path.Combine(_root, "not-extracted")),
            config, src)
        {
            Controller = settings.Controller,
        };
        var runner = Path.Combine(_root, PythonRunnerScript.FileName);
        await File.WriteAllBytesAsync(runner, PythonRunnerScript.Bytes, Token);
        _image = new ContainerImage("registry.example.com/flytesharp/etl:3f9a1c", "python3", runner, null, InsecureRegistry: false);
    }

    public async ValueTask DisposeAsync()
    {
        await _run.StopControllerServerAsync();
        _run.Dispose();
        await _writer.DisposeAsync();
        await _api.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task ExecuteAsync_SequentialCalls_OnePodServesThemAllAndItsSpecCarriesNoToken()
    {
        var executor = Executor();
        var env = Reusable(new ReusePolicy(Replicas: 2));
        var lines = new List<(string, string)>();

        var results = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var reply = await executor.ExecuteAsync(Request(env, "app.who:whoami", $$"""{"i": {{i}}}""", lines), Token);
            Assert.Null(reply.Error);
            results.Add(JsonSerializer.Deserialize<string>(reply.OutputJson!)!);
        }

        await executor.DisposeAsync();

        var calls = results.Select(r => r.Split(':')).ToArray();
        Assert.Single(calls.Select(c => c[0]).Distinct());              // one runner process
        Assert.Equal(["1", "2", "3"], calls.Select(c => c[1]));          // its module state carried over
        Assert.All(calls, c => Assert.Equal("debug", c[2]));             // the environment's variables
        Assert.Contains(("stdout", "call 2 on " + calls[0][0]), lines);   // per-action logs came back in the replies
        Assert.Contains(("stderr", "to stderr"), lines);

        var pod = Assert.Single(_api.Created);
        var container = Assert.Single(pod.Spec.Containers);
        Assert.Contains("--serve-pull", container.Command);
        Assert.Equal("/run/flytesharp/controller.token", After(container.Command, "--controller-token-file"));
        Assert.Equal("replica", pod.Metadata.Labels["flytesharp.io/component"]);
        Assert.Equal(RunName, pod.Metadata.Annotations["flytesharp.io/run"]);
        Assert.True(pod.Metadata.Annotations.ContainsKey("flytesharp.io/owner-pid"));
        var secret = Assert.Single(_api.CreatedSecrets);
        Assert.Equal(secret.Metadata.Name, pod.Spec.Volumes.Single(v => v.Name == "flytesharp-controller").Secret.SecretName);
        var token = System.Text.Encoding.ASCII.GetString(secret.Data["controller.token"]);
        Assert.Equal(64, token.Length);
        Assert.DoesNotContain(token, KubernetesJson.Serialize(pod), StringComparison.Ordinal);
        Assert.DoesNotContain(container.Env, e => e.Value?.Contains(token, StringComparison.Ordinal) == true);

        // Run end: the Pod and the token Secret are deleted.
        Assert.Equal([pod.Metadata.Name], _api.Deleted);
        Assert.Equal([secret.Metadata.Name], _api.DeletedSecrets);
    }

    [Fact]
    public async Task ExecuteAsync_ConcurrentCalls_NeverMorePodsThanReplicas_EachPodRunsOneCallAtATime()
    {
        await using var executor = Executor();
        var env = Reusable(new ReusePolicy(Replicas: 2));

        var replies = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => executor.ExecuteAsync(Request(env, "app.who:stamp", $$"""{"i": {{i}}}"""), Token)));

        Assert.Equal(2, _api.Created.Count);
        var calls = replies.Select(r => JsonSerializer.Deserialize<string>(r.OutputJson!)!.Split('|'))
            .Select(p => (Interpreter: p[0], Start: double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture), End: double.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture)))
            .ToArray();
        Assert.Equal(2, calls.Select(c => c.Interpreter).Distinct().Count());
        foreach (var group in calls.GroupBy(c => c.Interpreter))
        {
            var ordered = group.OrderBy(c => c.Start).ToArray();
            Assert.All(ordered.Zip(ordered.Skip(1)), pair => Assert.True(pair.First.End <= pair.Second.Start, "two calls overlapped on one replica"));
        }
    }

    [Fact]
    public async Task ExecuteAsync_ReplicaProcessDiesMidCall_CallFailsAsADiedWorker_NextCallRunsOnANewPod()
    {
        await using var executor = Executor();
        var env = Reusable(new ReusePolicy(Replicas: 1));

        var first = await executor.ExecuteAsync(Request(env, "app.who:whoami", """{"i": 1}"""), Token);
        var died = await Assert.ThrowsAsync<PythonWorkerDiedException>(() => executor.ExecuteAsync(Request(env, "app.who:die", """{"i": 2}"""), Token));
        var after = await executor.ExecuteAsync(Request(env, "app.who:whoami", """{"i": 3}"""), Token);

        Assert.Equal(9, died.ExitCode);
        Assert.Contains("ended while running the task", died.Message, StringComparison.Ordinal);
        var pods = _api.Created.ToArray();
        Assert.Equal(2, pods.Length);
        Assert.Contains(pods[0].Metadata.Name, died.Message, StringComparison.Ordinal);
        Assert.Contains(pods[0].Metadata.Name, _api.Deleted);            // the dead replica was deleted
        Assert.NotEqual(Pid(first), Pid(after));
        Assert.EndsWith(":1:debug", JsonSerializer.Deserialize<string>(after.OutputJson!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_ReplicaIdleLongerThanItsTtl_PodIsDeletedAndTheNextCallStartsAnother()
    {
        await using var executor = Executor();
        var env = Reusable(new ReusePolicy(Replicas: 1, IdleTtl: TimeSpan.FromMilliseconds(500)));

        var first = await executor.ExecuteAsync(Request(env, "app.who:whoami", """{"i": 1}"""), Token);
        var pod = Assert.Single(_api.Created).Metadata.Name;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!_api.Deleted.Contains(pod) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Token);
        }

        Assert.Contains(pod, _api.Deleted);
        var second = await executor.ExecuteAsync(Request(env, "app.who:whoami", """{"i": 2}"""), Token);
        Assert.Equal(2, _api.Created.Count);
        Assert.NotEqual(Pid(first), Pid(second));
    }

    [Fact]
    public async Task ExecuteAsync_CallCancelled_ItsReplicaPodIsDeleted()
    {
        _api.Scenario = _ => PodScenario.RunLocally;
        await using var executor = Executor();
        var env = Reusable(new ReusePolicy(Replicas: 1));
        await executor.ExecuteAsync(Request(env, "app.who:whoami", """{"i": 1}"""), Token);
        using var cancel = new CancellationTokenSource();
        var waiting = executor.ExecuteAsync(Request(env, "app.who:sleepy", """{"s": 60}"""), cancel.Token);
        await Task.Delay(500, Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        var pod = Assert.Single(_api.Created).Metadata.Name;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!_api.Deleted.Contains(pod) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Token);
        }

        Assert.Contains(pod, _api.Deleted);
    }

    [Fact]
    public async Task ExecuteAsync_NoControllerUrl_RunsOnePodPerActionAsBefore()
    {
        var context = _context with { Config = _context.Config with { ControllerUrl = null } };
        await using var executor = new KubernetesPythonExecutor(context, new FixedImageSource(_image), _api.Client(), "flytesharp-tests", ownsClient: true);
        var env = Reusable(new ReusePolicy(Replicas: 1));

        await executor.ExecuteAsync(Request(env, "app.who:whoami", """{"i": 1}"""), Token);
        await executor.ExecuteAsync(Request(env, "app.who:whoami", """{"i": 2}"""), Token);

        Assert.Equal(2, _api.Created.Count);
        Assert.All(_api.Created, p => Assert.DoesNotContain("--serve-pull", p.Spec.Containers[0].Command));
    }

    [Fact]
    public async Task ExecuteAsync_ReplyNamesAnOutputFile_RefusedAndTheReplicaIsRetired()
    {
        // A replica whose "runner" is hostile: it speaks the pull protocol with the run's token and answers every call with
        // a path on the driver's host, which the driver would otherwise read (and delete) as the output.
        var hostile = Path.Combine(_root, "hostile.py");
        await File.WriteAllTextAsync(hostile, """
            import json, sys, urllib.error, urllib.request
            args = sys.argv
            base = args[args.index("--serve-pull") + 1].rstrip("/") + "/v1/replicas/" + args[args.index("--replica") + 1]
            token = open(args[args.index("--controller-token-file") + 1]).read().strip()
            def send(method, path, body=None):
                request = urllib.request.Request(base + path, data=body, method=method, headers={"Authorization": "Bearer " + token})
                try:
                    with urllib.request.urlopen(request, timeout=40) as response:
                        return response.status, response.read()
                except urllib.error.HTTPError as error:
                    return error.code, error.read()
            while True:
                status, body = send("GET", "/next")
                if status == 204:
                    continue
                if status != 200:
                    break
                call = json.loads(body)
                send("POST", "/replies", json.dumps({"id": call["id"], "ok": True, "output_file": "/etc/hostname"}).encode())
            """.ReplaceLineEndings("\n"), Token);
        var image = _image with { RunnerPath = hostile };
        await using var executor = new KubernetesPythonExecutor(_context, new FixedImageSource(image), _api.Client(), "flytesharp-tests", ownsClient: true);
        var env = Reusable(new ReusePolicy(Replicas: 1));

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => executor.ExecuteAsync(Request(env, "app.who:whoami", """{"i": 1}"""), Token));

        Assert.Contains("names an output file", error.Message, StringComparison.Ordinal);
        var pod = Assert.Single(_api.Created).Metadata.Name;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!_api.Deleted.Contains(pod) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Token);
        }

        Assert.Contains(pod, _api.Deleted);
    }

    [Fact]
    public async Task ExecuteAsync_ReplicaGoesSilentMidCall_FailsAsADiedWorkerAfterTheSilenceLimit_AndItsPodIsDeleted()
    {
        // A replica that takes a call and then neither replies nor sends heartbeats (a hung node, a cut network), while
        // its process and Pod stay up: only the silence bound can tell.
        var silent = await SilentReplica.WriteAsync(Path.Combine(_root, "silent.py"), Token);
        var limit = PodReplica.SilenceLimit;
        PodReplica.SilenceLimit = TimeSpan.FromSeconds(1);
        try
        {
            await using var executor = new KubernetesPythonExecutor(_context, new FixedImageSource(_image with { RunnerPath = silent }), _api.Client(), "flytesharp-tests", ownsClient: true);
            var env = Reusable(new ReusePolicy(Replicas: 1));

            var died = await Assert.ThrowsAsync<PythonWorkerDiedException>(() => executor.ExecuteAsync(Request(env, "app.who:whoami", """{"i": 1}"""), Token))
                .WaitAsync(TimeSpan.FromSeconds(30), Token);

            Assert.Contains("sent nothing for 1 s while running the task", died.Message, StringComparison.Ordinal);
            var pod = Assert.Single(_api.Created).Metadata.Name;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!_api.Deleted.Contains(pod) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, Token);
            }

            Assert.Contains(pod, _api.Deleted);
        }
        finally
        {
            PodReplica.SilenceLimit = limit;
        }
    }

    [Fact]
    public async Task RemoveReplicaPodsAsync_PodOfAGoneDriver_IsDeleted_OneOfThisDriverIsKept()
    {
        _api.Scenario = _ => PodScenario.Hang;
        using var client = _api.Client();
        var pods = new KubernetesPods(client, "flytesharp-tests", TimeProvider.System);
        await using var reusable = new ReusablePods(_context, pods, _context.Controller!, TimeProvider.System);
        var env = Reusable(new ReusePolicy(Replicas: 1));
        var live = reusable.Pod("flytesharp-live-replica", env, _image, null, "", "http://127.0.0.1:1", "live", "token-secret");
        var orphan = reusable.Pod("flytesharp-orphan-replica", env, _image, null, "", "http://127.0.0.1:1", "orphan", "token-secret");
        orphan.Metadata.Annotations["flytesharp.io/owner-pid"] = "999999"; // no such process on this host
        await client.CoreV1.CreateNamespacedPodAsync(live, "flytesharp-tests", cancellationToken: Token);
        await client.CoreV1.CreateNamespacedPodAsync(orphan, "flytesharp-tests", cancellationToken: Token);

        var removed = await KubernetesSweeper.RemoveReplicaPodsAsync(pods, _store, Token);

        Assert.Equal(["flytesharp-tests/flytesharp-orphan-replica (run " + RunName + ")"], removed);
        Assert.Equal(["flytesharp-orphan-replica"], _api.Deleted);
    }

    private KubernetesPythonExecutor Executor() => new(_context, new FixedImageSource(_image), _api.Client(), "flytesharp-tests", ownsClient: true);

    private static TaskEnvironment Reusable(ReusePolicy policy) =>
        new("etl", Image.FromDebianBase(), envVars: new Dictionary<string, string> { ["LEVEL"] = "debug" }, reuse: policy);

    private static string Pid(TaskReply reply) => JsonSerializer.Deserialize<string>(reply.OutputJson!)!.Split(':')[0];

    private static PythonTaskRequest Request(TaskEnvironment env, string task, string inputs, List<(string, string)>? lines = null) =>
        new(PythonTaskReference.Parse(task), env, inputs, "a0.call", (stream, line) =>
        {
            if (lines is not null)
            {
                lock (lines)
                {
                    lines.Add((stream, line));
                }
            }
        });

    private static string After(IList<string> args, string flag) => args[args.IndexOf(flag) + 1];

    /// <summary>Hands out one prebuilt image (building is the container tests' subject).</summary>
    private sealed class FixedImageSource(ContainerImage image) : IContainerImageSource
    {
        public Task<string> RuntimeAsync(CancellationToken cancellationToken) => Task.FromResult("podman");

        public Task<ContainerImage> GetAsync(TaskEnvironment environment, CancellationToken cancellationToken) => Task.FromResult(image);
    }
}
