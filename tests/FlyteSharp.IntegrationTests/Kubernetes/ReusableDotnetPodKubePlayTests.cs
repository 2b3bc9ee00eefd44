using FlyteSharp.Execution;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;

namespace FlyteSharp.IntegrationTests.Kubernetes;

/// <summary>
/// C# tasks of a reusable environment in kubernetes mode, end to end: whole runs whose replica Pods and the run's token
/// Secret are played by <c>podman kube play</c> (<see cref="KubePlayApiServer"/>; no Kubernetes API server can run here,
/// and kube play is the nearest real runtime for the Pod specs) with the .NET base image. Each replica's .NET worker reads
/// the token from the mounted Secret, fetches the .NET bundle from the test registry and pulls its calls from the
/// driver's controller API over real TCP (<c>--serve-pull</c>).
/// </summary>
public class ReusableDotnetPodKubePlayTests(DistributionRegistry registry)
{
    private const string Tasks = """
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace DotnetTasksApp;

        public static class Tasks
        {
            private static readonly string Worker = Guid.NewGuid().ToString("N")[..12];
            private static int _calls;

            public static readonly TaskEnvironment Warm = new("kube-warm", Image.FromDotnetBase("10.0"), new Resources(Memory: "256Mi"),
                reuse: new ReusePolicy(Replicas: 1));

            public static readonly TaskEnvironment Plain = new("kube-plain", Image.FromDotnetBase("10.0"), new Resources(Memory: "256Mi"));

            public static readonly FlyteTask<int, string> Count = Warm.Task("kcount", async (int i) =>
            {
                Console.WriteLine($"count {i} on {Worker}");
                return await Task.FromResult($"v1:{Worker}:{Interlocked.Increment(ref _calls)}");
            });

            public static readonly FlyteTask<int, string> Doom = Warm.Task("kdoom", async (int i) =>
            {
                await File.WriteAllTextAsync("/tmp/doomed", "");
                return Worker;
            });

            public static readonly FlyteTask<int, string> CrashIfDoomed = Warm.Task("kcrash", async (int i) =>
            {
                await Task.Yield();
                if (File.Exists("/tmp/doomed"))
                {
                    Environment.FailFast("the replica dies mid-action");
                }

                return Worker;
            }, new TaskOptions { Retries = 1, RetryBackoff = TimeSpan.Zero });

            public static readonly FlyteTask<int, string> DoomThenCrash = Plain.Task("kdoomcrash", async (int i) =>
                await Doom.InvokeAsync(i) + "," + await CrashIfDoomed.InvokeAsync(i));

            public static readonly FlyteTask<int, int> Square = Plain.Task("ksquare", async (int n) => await Task.FromResult(n * n));

            // A replica's call that calls another task: through the run's controller, with the token of the mounted Secret.
            public static readonly FlyteTask<int, string> CountAndSquare = Warm.Task("kcountsquare", async (int n) =>
                $"{await Task.FromResult(Worker)}:{await Square.InvokeAsync(n)}");

            public static readonly FlyteTask<int, string> Pipeline = Plain.Task("kpipeline", async (int n) =>
                string.Join(",", await Count.InvokeAsync(1), await Count.InvokeAsync(2), await CountAndSquare.InvokeAsync(n)));
        }
        """;

    [Fact]
    public async Task Run_SequentialCSharpCalls_ShareOneReplicaPod_ItsCallsCallOtherTasks_RunEndLeavesNoPodAndNoSecret()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = await StartAsync();
        using var projectDisposal = project;
        await using var apiDisposal = api;
        var tasks = await project.WriteTasks(Tasks).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("kpipeline"), new Dictionary<string, string> { ["n"] = "7" },
            new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        var parts = System.Text.Json.JsonSerializer.Deserialize<string>((await run.GetRecordAsync(ct)).OutputsJson!)!.Split(',').Select(p => p.Split(':')).ToArray();
        Assert.Equal([parts[0][1], parts[0][1], parts[0][1]], [parts[0][1], parts[1][1], parts[2][0]]); // one worker process
        Assert.Equal(["1", "2"], parts.Take(2).Select(p => p[2]));  // its static state carried over
        Assert.Equal("49", parts[2][1]);                            // a nested call from the replica
        var actions = await run.GetActionsAsync(ct);
        var replicaPods = api.PlayedYaml.Where(p => p.Value.Contains("--serve-pull", StringComparison.Ordinal)).Select(p => p.Key).ToList();
        var replica = Assert.Single(replicaPods);
        Assert.All(actions.Where(a => a.Task is "kcount" or "kcountsquare"), a => Assert.Contains($"pod {replica} ", a.Host, StringComparison.Ordinal));
        Assert.Equal(3, api.PlayedYaml.Count);                      // the pipeline, the replica, the square
        var logs = await run.GetLogsAsync(cancellationToken: ct);
        var second = Assert.Single(actions, a => a.Task == "kcount" && a.InputsJson!.Contains('2', StringComparison.Ordinal));
        Assert.Contains(logs, l => l.ActionId == second.Id && l.Text == $"count 2 on {parts[0][1]}");

        var secret = Assert.Single(api.CreatedSecrets);
        var token = System.Text.Encoding.ASCII.GetString(secret.Data["controller.token"]);
        Assert.All(api.PlayedYaml.Values, yaml => Assert.DoesNotContain(token, yaml, StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Text.Contains(token, StringComparison.Ordinal));
        Assert.Equal(api.PlayedYaml.Keys.Order(StringComparer.Ordinal), api.DeletedPods.Order(StringComparer.Ordinal));
        Assert.Equal([secret.Metadata.Name], api.DeletedSecrets);
        Assert.Empty(await Podman.ContainersAsync(replica));
    }

    [Fact]
    public async Task Run_ReplicaWorkerDiesMidAction_TheActionIsRetriedOnANewPod()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = await StartAsync();
        using var projectDisposal = project;
        await using var apiDisposal = api;
        var tasks = await project.WriteTasks(Tasks).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("kdoomcrash"), new Dictionary<string, string> { ["i"] = "1" },
            new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        var workers = System.Text.Json.JsonSerializer.Deserialize<string>((await run.GetRecordAsync(ct)).OutputsJson!)!.Split(',');
        Assert.NotEqual(workers[0], workers[1]); // the retry ran in a fresh Pod
        var crashed = Assert.Single(await run.GetActionsAsync(ct), a => a.Task == "kcrash");
        Assert.Equal(2, crashed.Attempts);
        Assert.Contains(await run.GetLogsAsync(cancellationToken: ct), l => l.ActionId == crashed.Id && l.Text.Contains("ended while running the task", StringComparison.Ordinal));
        Assert.Equal(2, api.PlayedYaml.Count(p => p.Value.Contains("--serve-pull", StringComparison.Ordinal)));
        Assert.Equal(api.PlayedYaml.Keys.Order(StringComparer.Ordinal), api.DeletedPods.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Run_CsEditBetweenRunsOfAGlobalEnvironment_TheSamePodReloadsTheNewCode_NestedCallsReachTheNewRun()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = await StartAsync();
        using var projectDisposal = project;
        await using var apiDisposal = api;
        var global = Tasks.Replace("reuse: new ReusePolicy(Replicas: 1)", "reuse: new ReusePolicy(Replicas: 1, IdleTtl: TimeSpan.FromMinutes(5), Scope: ReuseScope.Global)", StringComparison.Ordinal);
        var v1 = (await project.WriteTasks(global).BuildAndLoadAsync()).FindTask("kpipeline");
        var v2 = (await project.WriteTasks(global.Replace("$\"v1:", "$\"v2:", StringComparison.Ordinal)).BuildAndLoadAsync()).FindTask("kpipeline");
        var options = new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct };
        try
        {
            var first = await project.RunAsync(v1, new Dictionary<string, string> { ["n"] = "2" }, options);
            Assert.True(await first.WaitAsync(ct) == RunStatus.Succeeded, first.Error?.ToString());
            var deletedAfterFirst = api.DeletedPods.ToList();
            var second = await project.RunAsync(v2, new Dictionary<string, string> { ["n"] = "3" }, options);
            Assert.True(await second.WaitAsync(ct) == RunStatus.Succeeded, second.Error?.ToString());

            string[][] Parse(RunRecord record) => [.. System.Text.Json.JsonSerializer.Deserialize<string>(record.OutputsJson!)!.Split(',').Select(p => p.Split(':'))];
            var a = Parse(await first.GetRecordAsync(ct));
            var b = Parse(await second.GetRecordAsync(ct));
            Assert.Equal(("v1", "v2"), (a[0][0], b[0][0]));          // the edit took effect
            Assert.Equal(["1", "2"], b.Take(2).Select(p => p[2]));   // the new assembly's statics start afresh
            Assert.NotEqual(a[0][1], b[0][1]);                       // in a fresh load context
            Assert.Equal(("4", "9"), (a[2][1], b[2][1]));            // nested calls reached each run's controller
            var replica = Assert.Single(api.PlayedYaml, p => p.Value.Contains("--serve-pull", StringComparison.Ordinal)).Key;
            Assert.DoesNotContain(replica, deletedAfterFirst);       // the shared Pod outlived its first run
            Assert.All((await second.GetActionsAsync(ct)).Where(x => x.Task is "kcount" or "kcountsquare"),
                x => Assert.Contains($"pod {replica} ", x.Host, StringComparison.Ordinal));
        }
        finally
        {
            await FlyteSharp.Execution.Kubernetes.SharedReplicaHub.DisposeAllAsync();
        }

        Assert.Equal(api.PlayedYaml.Keys.Order(StringComparer.Ordinal), api.DeletedPods.Order(StringComparer.Ordinal));
        Assert.Equal(api.CreatedSecrets.Select(s => s.Metadata.Name).Order(StringComparer.Ordinal), api.DeletedSecrets.Order(StringComparer.Ordinal));
        foreach (var secret in api.CreatedSecrets)
        {
            var token = System.Text.Encoding.ASCII.GetString(secret.Data["controller.token"]);
            Assert.All(api.PlayedYaml.Values, yaml => Assert.DoesNotContain(token, yaml, StringComparison.Ordinal));
        }
    }

    private async Task<(DotnetTaskProject Project, KubePlayApiServer Api)> StartAsync()
    {
        await DotnetBaseImage.EnsureAsync();
        var project = new DotnetTaskProject(registry);
        var api = new KubePlayApiServer(Path.Combine(project.Root, "kube"));
        project.Config = project.Config with
        {
            StoreUri = $"oci://{registry.Host}/{DotnetTaskProject.SharedRepository}-bundles",
            KubeConfig = api.WriteKubeconfig(),
            ControllerListen = "127.0.0.1:0",
            ControllerUrl = "http://127.0.0.1:{port}",
        };
        return (project, api);
    }
}
