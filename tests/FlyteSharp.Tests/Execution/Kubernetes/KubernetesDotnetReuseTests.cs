using FlyteSharp.Configuration;
using FlyteSharp.Controller;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Execution.Kubernetes;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Images;
using FlyteSharp.Runner;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using k8s;

namespace FlyteSharp.Tests.Execution.Kubernetes;

/// <summary>
/// C# environments with a <see cref="ReusePolicy"/> in kubernetes mode, against a FAKE API server
/// (<see cref="FakeKubernetesApi"/>: no Kubernetes API server can run here). The fake plays each replica Pod by running
/// its command here — the real .NET worker (this build's) in its pull serve loop, the run's token Secret materialised as
/// the mounted file — which pulls its calls from the run's real controller API server over TCP. The worker's image has no
/// user assemblies here, so each call's reply is the worker's own "no such assembly" failure: a real reply, carried end
/// to end. Real C# task bodies on replica Pods run in the integration tests.
/// </summary>
[Collection(nameof(PodReplica))]
public sealed class KubernetesDotnetReuseTests : IAsyncLifetime
{
    private const string RunName = "csharp-reuse-1";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flytesharp-tests", "k8s-dotnet-reuse-" + Guid.NewGuid().ToString("n"));
    private readonly FakeKubernetesApi _api = new();
    private RunController _run = null!;
    private RunStore _store = null!;
    private RunStoreWriter _writer = null!;
    private DotnetExecutorContext _context = null!;

    /// <summary>Each Pod as the executor created it (the fake's kubelet rewrites the image paths of the one it runs).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _asCreated = new(StringComparer.Ordinal);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly TaskEnvironment Reusable = new("k8s-reusable-cs", Image.FromDotnetBase(), envVars: new Dictionary<string, string> { ["LEVEL"] = "info" },
        reuse: new ReusePolicy(Replicas: 1));

    private static readonly FlyteTask<int, int> Quadruple = Reusable.Task("quadruple", async (int n) => await Task.FromResult(n * 4));

    public ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_root, "app"));
        var config = new FlyteConfig
        {
            Home = Path.Combine(_root, "home"),
            StoreUri = $"oci://{_api.Host}/flytesharp/bundles",
            ControllerListen = "127.0.0.1:0",
            ControllerUrl = "http://127.0.0.1:{port}",
        };
        var sandbox = Path.Combine(_root, "sandbox");
        Directory.CreateDirectory(sandbox);
        var settings = new RunSettings(RunName, "http://localhost/runs/" + RunName, config, null, ExecutionMode.Kubernetes, 8, 8, TimeProvider.System, sandbox);
        _store = RunStore.Open(Path.Combine(_root, "home", "runs.db"));
        _writer = new RunStoreWriter(_store, RunName);
        _run = new RunController(settings, _store, _writer, _ => throw new InvalidOperationException("not used"), CancellationToken.None);
        _context = new DotnetExecutorContext(RunName, sandbox, config, new RunSecrets(config)) { Controller = settings.Controller };

        // The kubelet's part for the worker: its image path is this build's worker, its app folder an empty one here.
        var worker = Path.Combine(AppContext.BaseDirectory, DotnetWorkerCommand.HostFolderName, DotnetWorkerCommand.EntryFileName);
        _api.Scenario = pod =>
        {
            _asCreated[pod.Metadata.Name] = KubernetesJson.Serialize(pod);
            var command = pod.Spec.Containers[0].Command;
            for (var i = 0; i < command.Count; i++)
            {
                command[i] = command[i] == DotnetWorkerCommand.EntryPath ? worker : command[i] == DotnetWorkerCommand.AppDirectory ? Path.Combine(_root, "app") : command[i];
            }

            return PodScenario.RunLocally;
        };
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _run.StopControllerServerAsync();
        _run.Dispose();
        await _writer.DisposeAsync();
        await _api.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private KubernetesDotnetExecutor Executor() =>
        new(_context, new FixedImageSource(new ContainerImage("registry.example.com/flytesharp/cs:1a2b3c", "dotnet", "/opt/flytesharp/flytesharp_runner.py", null, false)),
            _api.Client(), "flytesharp-tests", ownsClient: true, code: new InImageCode());

    private static DotnetTaskRequest Request(string action, List<string>? placed = null, List<string>? logged = null) =>
        new(Quadruple, """{"n": 2}""", null, action, (_, line) => logged?.Add(line), (_, host) => placed?.Add(host));

    [Fact]
    public async Task Execute_TwoCalls_OnePodWhoseWorkerPullsServesBoth_ItsSpecCarriesNoToken_RunEndDeletesIt()
    {
        var placed = new List<string>();
        var logged = new List<string>();
        string pod;
        await using (var executor = Executor())
        {
            var first = await executor.ExecuteAsync(Request("a0", placed, logged), Token).WaitAsync(TimeSpan.FromSeconds(60), Token);
            var second = await executor.ExecuteAsync(Request("a1", placed, logged), Token).WaitAsync(TimeSpan.FromSeconds(60), Token);

            pod = Assert.Single(_api.Created).Metadata.Name;
            var created = KubernetesJson.Deserialize<k8s.Models.V1Pod>(_asCreated[pod]);
            foreach (var reply in new[] { first, second })
            {
                // The worker itself answered: the call reached it through the controller API and its reply came back.
                Assert.NotNull(reply.Error);
                Assert.Contains("App.dll", reply.Error.Message, StringComparison.Ordinal);
            }

            Assert.Equal([$"pod {pod} in namespace flytesharp-tests (reusable, call 1)", $"pod {pod} in namespace flytesharp-tests (reusable, call 2)"], placed);
            var container = Assert.Single(created.Spec.Containers);
            var command = container.Command.ToList();
            Assert.Equal(DotnetWorkerCommand.DotnetExecutable, command[0]);
            Assert.Equal("--serve-pull", command[2]);
            Assert.Equal(ControllerProtocol.ContainerTokenPath, command[command.IndexOf("--controller-token-file") + 1]);
            Assert.Equal(command[3], command[command.IndexOf("--controller") + 1]);
            Assert.Equal(DotnetWorkerCommand.AppDirectory, command[command.IndexOf("--app-dir") + 1]);
            Assert.Equal("replica", created.Metadata.Labels[ControllerTokenSecret.ComponentLabel]);
            Assert.Equal("info", container.Env.Single(e => e.Name == "LEVEL").Value);
            var token = Assert.Single(_api.Secrets.Values)[ControllerTokenSecret.DataKey];
            Assert.DoesNotContain(token, _asCreated[pod], StringComparison.Ordinal);
            Assert.DoesNotContain(logged, l => l.Contains("ReusePolicy", StringComparison.Ordinal));
            Assert.DoesNotContain(pod, _api.Deleted);
        }

        Assert.Contains(pod, _api.Deleted);
        Assert.NotEmpty(_api.DeletedSecrets);
    }

    [Fact]
    public async Task Execute_ReplicaGoesSilentMidCall_FailsAsProcessExitedForTheRetries_AndTheNextCallRunsOnANewPod()
    {
        // The first Pod takes the call and then neither replies nor sends heartbeats (a hung node): only the silence bound tells.
        var silent = await SilentReplica.WriteAsync(Path.Combine(_root, "silent.py"), Token);
        var worker = _api.Scenario;
        var pods = 0;
        _api.Scenario = pod =>
        {
            if (Interlocked.Increment(ref pods) == 1)
            {
                pod.Spec.Containers[0].Command = ["python3", silent, .. pod.Spec.Containers[0].Command.Skip(2)];
                return PodScenario.RunLocally;
            }

            return worker(pod);
        };
        var limit = PodReplica.SilenceLimit;
        PodReplica.SilenceLimit = TimeSpan.FromSeconds(1);
        try
        {
            await using var executor = Executor();

            var died = await Assert.ThrowsAsync<DotnetTaskException>(() => executor.ExecuteAsync(Request("a0"), Token)).WaitAsync(TimeSpan.FromSeconds(60), Token);
            var after = await executor.ExecuteAsync(Request("a1"), Token).WaitAsync(TimeSpan.FromSeconds(60), Token);

            Assert.Equal("ProcessExited", died.ExceptionType);
            Assert.Contains("sent nothing for 1 s while running the task", died.Message, StringComparison.Ordinal);
            var created = _api.Created.Select(p => p.Metadata.Name).ToArray();
            Assert.Equal(2, created.Length);
            Assert.Contains(created[0], _api.Deleted);
            Assert.Contains("App.dll", after.Error!.Message, StringComparison.Ordinal);
        }
        finally
        {
            PodReplica.SilenceLimit = limit;
        }
    }

    [Fact]
    public async Task Execute_CallerOfTheSameEnvironmentHoldsTheOnlyReplica_TheCallRunsInAPodOfItsOwn_CancellingTheHolderDeletesItsReplica()
    {
        // The replica takes the holder's call and keeps it (a caller up the tree waiting for this action would).
        var holding = await SilentReplica.WriteAsync(Path.Combine(_root, "holding.py"), Token);
        _api.Scenario = pod =>
        {
            if (pod.Spec.Containers[0].Command.Contains("--serve-pull"))
            {
                pod.Spec.Containers[0].Command = ["python3", holding, .. pod.Spec.Containers[0].Command.Skip(2)];
                return PodScenario.RunLocally;
            }

            return PodScenario.Script("FLYTESHARP-RESULT-BEGIN {\"ok\": true, \"output\": 8} FLYTESHARP-RESULT-END\n", PodStatuses.Running(), PodStatuses.Terminated(0, "Completed"));
        };
        await using var executor = Executor();
        using var cancelHolder = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var placed = new List<string>();
        var holder = executor.ExecuteAsync(Request("a0", placed), cancelHolder.Token);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (placed.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Token);
        }

        var child = await executor.ExecuteAsync(Request("a1") with { CalledFromSameEnvironment = true }, Token).WaitAsync(TimeSpan.FromSeconds(60), Token);
        await cancelHolder.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => holder).WaitAsync(TimeSpan.FromSeconds(30), Token);

        Assert.Equal("8", child.OutputJson);
        var pods = _api.Created.ToArray();
        Assert.Equal(2, pods.Length);
        Assert.Contains("--serve-pull", pods[0].Spec.Containers[0].Command);
        Assert.DoesNotContain("--serve-pull", pods[1].Spec.Containers[0].Command);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!_api.Deleted.Contains(pods[0].Metadata.Name) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Token);
        }

        Assert.Contains(pods[0].Metadata.Name, _api.Deleted);
    }

    [Fact]
    public async Task Execute_InputsLargerThanAReplicaTakes_RefusedNamingTheLimitBeforeAnyPod()
    {
        await using var executor = Executor();
        var inputs = "{\"s\": \"" + new string('x', KubernetesDotnetExecutor.MaxReplicaInputsBytes) + "\"}";

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => executor.ExecuteAsync(Request("a0") with { InputsJson = inputs }, Token));

        Assert.Contains($"a reusable pod takes at most {KubernetesDotnetExecutor.MaxReplicaInputsBytes} bytes inline", error.Message, StringComparison.Ordinal);
        Assert.Contains("by reference", error.Fix, StringComparison.Ordinal);
        Assert.Empty(_api.Created);
    }

    [Fact]
    public async Task Execute_GlobalScopeWithAFixedControllerUrl_SaysOnceThatItAppliesPerRun_AsForPythonTasks()
    {
        // A controller_url without {port} leaves no port for the process's shared hub: Global is applied per run, and a
        // setting that is not applied as written is said, not dropped silently.
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        var config = _context.Config with { ControllerListen = $"127.0.0.1:{port}", ControllerUrl = $"http://127.0.0.1:{port}" };
        const string run = RunName + "-fixed";
        var sandbox = Path.Combine(_root, "sandbox-fixed");
        Directory.CreateDirectory(sandbox);
        var settings = new RunSettings(run, "http://localhost/runs/" + run, config, null, ExecutionMode.Kubernetes, 8, 8, TimeProvider.System, sandbox);
        await using var writer = new RunStoreWriter(_store, run);
        using var controller = new RunController(settings, _store, writer, _ => throw new InvalidOperationException("not used"), CancellationToken.None);
        var context = new DotnetExecutorContext(run, sandbox, config, new RunSecrets(config)) { Controller = settings.Controller };
        var environment = new TaskEnvironment("k8s-global-cs", Image.FromDotnetBase(), reuse: new ReusePolicy(Replicas: 1, Scope: ReuseScope.Global));
        var task = environment.Task("quintuple", async (int n) => await Task.FromResult(n * 5));
        var errors = new StringWriter();
        var original = Console.Error;
        Console.SetError(TextWriter.Synchronized(errors));
        try
        {
            await using var executor = new KubernetesDotnetExecutor(context,
                new FixedImageSource(new ContainerImage("registry.example.com/flytesharp/cs:1a2b3c", "dotnet", "/r.py", null, false)), _api.Client(), "flytesharp-tests",
                ownsClient: true, code: new InImageCode());
            foreach (var action in new[] { "a0", "a1" })
            {
                var reply = await executor.ExecuteAsync(new DotnetTaskRequest(task, """{"n": 2}""", null, action, (_, _) => { }, (_, _) => { }), Token)
                    .WaitAsync(TimeSpan.FromSeconds(60), Token);
                Assert.Contains("App.dll", reply.Error!.Message, StringComparison.Ordinal); // the replica's worker answered
            }
        }
        finally
        {
            Console.SetError(original);
            await controller.StopControllerServerAsync();
        }

        Assert.Single(_api.Created);
        var warning = "warning: environment 'k8s-global-cs' has ReuseScope.Global, which kubernetes mode applies per run unless [kubernetes] controller_url has a {port} placeholder";
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(errors.ToString(), System.Text.RegularExpressions.Regex.Escape(warning)));
    }

    [Fact]
    public async Task Execute_NoControllerUrl_RunsAPodOfItsOwnPerAction()
    {
        _api.Scenario = _ => PodScenario.Script("FLYTESHARP-RESULT-BEGIN {\"ok\": true, \"output\": 8} FLYTESHARP-RESULT-END\n", PodStatuses.Running(), PodStatuses.Terminated(0, "Completed"));
        var context = _context with { Config = _context.Config with { ControllerUrl = null } };
        await using var executor = new KubernetesDotnetExecutor(context,
            new FixedImageSource(new ContainerImage("registry.example.com/flytesharp/cs:1a2b3c", "dotnet", "/r.py", null, false)), _api.Client(), "flytesharp-tests",
            ownsClient: true, code: new InImageCode());

        var reply = await executor.ExecuteAsync(Request("a0"), Token);

        Assert.Equal("8", reply.OutputJson);
        var container = Assert.Single(Assert.Single(_api.Created).Spec.Containers);
        Assert.DoesNotContain("--serve-pull", container.Command);
    }

    private sealed class InImageCode : IDotnetCodeSource
    {
        public Task<DotnetTaskCode> CodeForAsync(TaskDefinition task, CancellationToken cancellationToken) =>
            Task.FromResult(new DotnetTaskCode("App.dll", null, null, null, "assemblies baked into the image"));
    }

    private sealed class FixedImageSource(ContainerImage image) : IContainerImageSource
    {
        public Task<string> RuntimeAsync(CancellationToken cancellationToken) => Task.FromResult("podman");

        public Task<ContainerImage> GetAsync(TaskEnvironment environment, CancellationToken cancellationToken) => Task.FromResult(image);
    }
}
