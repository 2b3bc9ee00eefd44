using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Kubernetes;

/// <summary>
/// Reusable environments in kubernetes mode, end to end: whole runs whose replica Pods and token Secret are played by
/// <c>podman kube play</c> (<see cref="KubePlayApiServer"/>; no Kubernetes API server can run here, and kube play is the
/// nearest real runtime for the Pod specs). Each replica's runner reads the token from the mounted Secret, fetches the
/// bundle from the test registry and pulls its calls from the driver's controller API over real TCP.
/// </summary>
public class ReusablePodKubePlayTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    // Each interpreter draws its own id when the module is imported: a Pod's runner is PID 1 in every Pod.
    private const string WhoAmI = """
        import os, subprocess, time, uuid

        interpreter = uuid.uuid4().hex[:12]
        calls = 0

        def whoami(i: int) -> str:
            global calls
            calls += 1
            print(f"call {i} on {interpreter}")
            subprocess.run(["sh", "-c", f"echo fd-out {i}; echo fd-err {i} >&2"], check=True)
            return f"{interpreter}:{calls}"

        def doom(i: int) -> str:
            open("/tmp/doomed", "w").close()
            return interpreter

        def crash_if_doomed(i: int) -> str:
            if os.path.exists("/tmp/doomed"):
                os._exit(9)  # the runner's process dies mid-action, and with it the Pod's container
            return interpreter
        """;

    [Fact]
    public async Task Run_SequentialActions_ShareOnePod_RunEndLeavesNoPodAndNoSecret()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = Start();
        using var projectDisposal = project;
        await using var apiDisposal = api;
        project.WritePython("app/who.py", WhoAmI);
        var env = new TaskEnvironment("kreuse", Image.FromDebianBase("3.11").WithCodeBundle(), new Resources(Memory: "128Mi"), reuse: new ReusePolicy(Replicas: 2));
        var who = env.PythonTask<int, string>("app.who:whoami");
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var results = new List<string>();
            for (var i = 0; i < n; i++)
            {
                results.Add(await who.InvokeAsync(i));
            }

            return string.Join(",", results);
        });
        var runName = "kreuse-seq-" + Guid.NewGuid().ToString("N")[..8];

        var run = await project.Runtime.Run(pipeline, 4, new RunOptions { Mode = ExecutionMode.Kubernetes, Name = runName, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        var calls = (await run.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')).ToArray();
        Assert.Single(calls.Select(c => c[0]).Distinct());               // one interpreter
        Assert.Equal(["1", "2", "3", "4"], calls.Select(c => c[1]));      // its module state carried over
        var pod = Assert.Single(api.PlayedYaml.Keys);                     // in one Pod
        var actions = (await run.GetActionsAsync(ct)).Where(a => a.Task == "app.who:whoami").ToList();
        Assert.Equal(4, actions.Count);
        Assert.All(actions, a => Assert.Contains($"pod {pod} ", a.Host, StringComparison.Ordinal));
        var logs = await run.GetLogsAsync(cancellationToken: ct);
        Assert.Contains(logs, l => l.ActionId == actions[2].Id && l.Text == $"call 2 on {calls[0][0]}");
        for (var i = 0; i < 4; i++)
        {
            // What a subprocess writes to the descriptors is its action's output too, in the reply the Pod posts.
            var written = Assert.Single(logs, l => l.Text == $"fd-out {i}");
            Assert.Equal((actions[i].Id, "stdout"), (written.ActionId, written.Stream));
            written = Assert.Single(logs, l => l.Text == $"fd-err {i}");
            Assert.Equal((actions[i].Id, "stderr"), (written.ActionId, written.Stream));
        }

        var secret = Assert.Single(api.CreatedSecrets);
        var token = System.Text.Encoding.ASCII.GetString(secret.Data["controller.token"]);
        Assert.DoesNotContain(token, api.PlayedYaml[pod], StringComparison.Ordinal);
        Assert.DoesNotContain(logs, l => l.Text.Contains(token, StringComparison.Ordinal));
        Assert.Equal([pod], api.DeletedPods);
        Assert.Equal([secret.Metadata.Name], api.DeletedSecrets);
        Assert.Empty(await Podman.ContainersAsync(pod));
        Assert.DoesNotContain(secret.Metadata.Name, (await Podman.RunAsync("secret", "ls", "--format", "{{.Name}}")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ReplicaProcessDiesMidAction_RetriedOnANewPod()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = Start();
        using var projectDisposal = project;
        await using var apiDisposal = api;
        project.WritePython("app/who.py", WhoAmI);
        var env = new TaskEnvironment("kreusecrash", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var doom = env.PythonTask<int, string>("app.who:doom");
        var crash = env.PythonTask<int, string>("app.who:crash_if_doomed", new TaskOptions { Retries = 1, RetryBackoff = TimeSpan.Zero });
        var pipeline = env.Task("pipeline", async (int n) => await doom.InvokeAsync(n) + "," + await crash.InvokeAsync(n));

        var run = await project.Runtime.Run(pipeline, 1, new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        var interpreters = (await run.GetOutputAsync(ct)).Split(',');
        Assert.NotEqual(interpreters[0], interpreters[1]); // the retry ran in a fresh Pod
        var crashed = Assert.Single(await run.GetActionsAsync(ct), a => a.Task == "app.who:crash_if_doomed");
        Assert.Equal(2, crashed.Attempts);
        Assert.Contains(await run.GetLogsAsync(cancellationToken: ct), l => l.ActionId == crashed.Id && l.Text.Contains("ended while running the task", StringComparison.Ordinal));
        Assert.Equal(2, api.PlayedYaml.Count);
        Assert.Equal(api.PlayedYaml.Keys.Order(StringComparer.Ordinal), api.DeletedPods.Order(StringComparer.Ordinal));
        Assert.Single(api.DeletedSecrets);
    }

    [Fact]
    public async Task Run_ReplicaIdleLongerThanTtl_ItsPodIsDeletedBeforeTheRunEnds()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = Start();
        using var projectDisposal = project;
        await using var apiDisposal = api;
        project.WritePython("app/who.py", WhoAmI);
        var env = new TaskEnvironment("kreusettl", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1, IdleTtl: TimeSpan.FromSeconds(1)));
        var who = env.PythonTask<int, string>("app.who:whoami");
        int deletedAfterCalls = -1, deletedAfterIdle = -1;
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var first = await who.InvokeAsync(1);
            var second = await who.InvokeAsync(2); // within the TTL: the same replica
            deletedAfterCalls = api.DeletedPods.Count;
            await Task.Delay(TimeSpan.FromSeconds(6));
            deletedAfterIdle = api.DeletedPods.Count;
            return first + "," + second + "," + await who.InvokeAsync(3);
        });

        var run = await project.Runtime.Run(pipeline, 0, new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        Assert.Equal(0, deletedAfterCalls);
        Assert.Equal(1, deletedAfterIdle);
        var interpreters = (await run.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')[0]).ToArray();
        Assert.Equal(interpreters[0], interpreters[1]);
        Assert.NotEqual(interpreters[0], interpreters[2]); // after the idle TTL the call needed a new Pod
        Assert.Equal(2, api.PlayedYaml.Count);
        Assert.Equal(api.PlayedYaml.Keys.Order(StringComparer.Ordinal), api.DeletedPods.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Run_CodeEditWithTheSameImage_ReusesTheSharedPodWithANewInterpreter_ProcessEndDeletesItAndItsSecret()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = Start();
        using var projectDisposal = project;
        await using var apiDisposal = api;
        const string Version = "import uuid\ninterpreter = uuid.uuid4().hex[:12]\ncalls = 0\ndef version(i: int) -> str:\n    global calls\n    calls += 1\n    return f\"{0}:{{interpreter}}:{{calls}}\"\n";
        project.WritePython("app/ver.py", string.Format(System.Globalization.CultureInfo.InvariantCulture, Version, "v1"));
        var env = new TaskEnvironment("kreuseglobal", Image.FromDebianBase("3.11").WithCodeBundle(),
            reuse: new ReusePolicy(Replicas: 1, IdleTtl: TimeSpan.FromMinutes(5), Scope: ReuseScope.Global));
        var version = env.PythonTask<int, string>("app.ver:version");
        var twice = env.Task("twice", async (int n) => await version.InvokeAsync(n) + "," + await version.InvokeAsync(n));
        var options = new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct };
        try
        {
            var first = await project.Runtime.Run(twice, 1, options);
            Assert.True(await first.WaitAsync(ct) == RunStatus.Succeeded, first.Error?.ToString());
            var podsAfterFirst = api.DeletedPods.Count;
            project.WritePython("app/ver.py", string.Format(System.Globalization.CultureInfo.InvariantCulture, Version, "v2"));

            var second = await project.Runtime.Run(twice, 1, options);
            Assert.True(await second.WaitAsync(ct) == RunStatus.Succeeded, second.Error?.ToString());

            Assert.Equal(0, podsAfterFirst);                       // the shared replica outlived its first run
            Assert.NotEqual(first.BundleDigest, second.BundleDigest);
            var a = (await first.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')).ToArray();
            var b = (await second.GetOutputAsync(ct)).Split(',').Select(c => c.Split(':')).ToArray();
            Assert.Equal(["v1", "v1", "v2", "v2"], a.Concat(b).Select(c => c[0]));   // the edit took effect
            Assert.Equal(["1", "2", "1", "2"], a.Concat(b).Select(c => c[2]));       // in a fresh interpreter
            Assert.NotEqual(a[0][1], b[0][1]);
            var pod = Assert.Single(api.PlayedYaml.Keys);                               // in the same Pod
            var hosts = (await first.GetActionsAsync(ct)).Concat(await second.GetActionsAsync(ct)).Where(x => x.Task == "app.ver:version").Select(x => x.Host).ToList();
            Assert.Equal(4, hosts.Count);
            Assert.All(hosts, h => Assert.Contains($"pod {pod} ", h, StringComparison.Ordinal));
            Assert.Empty(api.DeletedSecrets);                                           // the shared token Secret stays with the Pod
        }
        finally
        {
            await FlyteSharp.Execution.Kubernetes.SharedReplicaHub.DisposeAllAsync();
        }

        Assert.Equal(api.PlayedYaml.Keys, api.DeletedPods);
        Assert.Equal(api.CreatedSecrets.Select(s => s.Metadata.Name), api.DeletedSecrets);
        var token = System.Text.Encoding.ASCII.GetString(Assert.Single(api.CreatedSecrets).Data["controller.token"]);
        Assert.DoesNotContain(token, Assert.Single(api.PlayedYaml.Values), StringComparison.Ordinal);
    }

    private (PodmanProject Project, KubePlayApiServer Api) Start()
    {
        var project = new PodmanProject(registry);
        var api = new KubePlayApiServer(Path.Combine(project.Root, "kube"));
        project.Config = project.Config with
        {
            StoreUri = $"oci://{registry.Host}/{project.Repository}-bundles",
            KubeConfig = api.WriteKubeconfig(),
            ControllerListen = "127.0.0.1:0",
            ControllerUrl = "http://127.0.0.1:{port}",
        };
        return (project, api);
    }
}
