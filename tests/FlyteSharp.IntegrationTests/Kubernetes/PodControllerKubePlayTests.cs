using FlyteSharp.Execution;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;

namespace FlyteSharp.IntegrationTests.Kubernetes;

/// <summary>
/// Nested calls from C# tasks in Pods, end to end: a whole run in <c>kubernetes</c> mode whose Pods and the run's token
/// Secret are played by <c>podman kube play</c> (<see cref="KubePlayApiServer"/>) — no Kubernetes API server can run
/// here, and kube play is the nearest real runtime for the Pod specs. The parent Pod's .NET worker reads the token from
/// the mounted Secret and calls the driver's controller API over real TCP; the driver schedules each child as its own
/// Pod and records it under the parent.
/// </summary>
public class PodControllerKubePlayTests(DistributionRegistry registry)
{
    private const string Tasks = """
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace DotnetTasksApp;

        public static class Tasks
        {
            public static readonly TaskEnvironment Pods = new("kube-ctl", Image.FromDotnetBase("10.0"), new Resources(Memory: "256Mi"));

            public static readonly FlyteTask<int, int> Square = Pods.Task("ksquare", async (int n) => await Task.FromResult(n * n));

            public static readonly TaskEnvironment Py = new("kube-py", Image.FromDebianBase("3.11").WithCodeBundle());

            public static readonly FlyteTask<int, int> Triple = Py.PythonTask<int, int>("app.ops:triple");

            public static readonly FlyteTask<int, int> Parent = Pods.Task("kparent", async (int n) =>
                (await Task.WhenAll(Square.InvokeAsync(n), Square.InvokeAsync(n + 1))).Sum());

            public static readonly FlyteTask<int, int> Sleepy = Pods.Task("ksleep", async (int s) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(s));
                return s;
            });

            public static readonly FlyteTask<int, int> Waiter = Pods.Task("kwaiter", async (int s) => await Sleepy.InvokeAsync(s));

            public static readonly FlyteTask<int, int> Mixed = Pods.Task("kmixed", async (int n) =>
                (await Task.WhenAll(Square.InvokeAsync(n), Triple.InvokeAsync(n))).Sum());
        }
        """;

    [Fact]
    public async Task Run_ParentPodCallsChildrenThroughTheControllerOverTcp_ChildrenArePodsUnderTheParent_SecretDeletedAtRunEnd()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = await StartAsync(url: "http://127.0.0.1:{port}");
        using var projectDisposal = project;
        await using var apiDisposal = api;
        var tasks = await project.WriteTasks(Tasks).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("kparent"), new Dictionary<string, string> { ["n"] = "3" }, new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        Assert.Equal("25", (await run.GetRecordAsync(ct)).OutputsJson); // 3² + 4²
        var actions = await run.GetActionsAsync(ct);
        var parent = Assert.Single(actions, a => a.Task == "kparent");
        var children = actions.Where(a => a.ParentId == parent.Id).ToList();
        Assert.Equal(2, children.Count);
        Assert.All(children, c => Assert.Equal("ksquare", c.Task));
        Assert.Equal(["16", "9"], children.Select(c => c.OutputsJson!).Order(StringComparer.Ordinal));
        Assert.Equal(3, api.PlayedYaml.Count); // the parent and each child in its own Pod

        var secret = Assert.Single(api.CreatedSecrets);
        var token = System.Text.Encoding.ASCII.GetString(secret.Data["controller.token"]);
        Assert.Equal(64, token.Length);
        Assert.All(api.PlayedYaml.Values, yaml =>
        {
            Assert.DoesNotContain(token, yaml, StringComparison.Ordinal);
            Assert.Contains("secretName: " + secret.Metadata.Name, yaml, StringComparison.Ordinal);
        });
        Assert.Equal([secret.Metadata.Name], api.DeletedSecrets);
        Assert.Equal(3, api.DeletedPods.Count);
        var logs = await run.GetLogsAsync(cancellationToken: ct);
        Assert.DoesNotContain(logs, l => l.Text.Contains(token, StringComparison.Ordinal));
        Assert.DoesNotContain(secret.Metadata.Name, (await Podman.RunAsync("secret", "ls", "--format", "{{.Name}}")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ParentPodCallsAPythonChildOfAnotherEnvironment_ItRunsInThatEnvironmentsPodUnderTheParent()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = await StartAsync(url: "http://127.0.0.1:{port}");
        using var projectDisposal = project;
        await using var apiDisposal = api;
        project.WritePython("app/ops.py", "def triple(x: int) -> int:\n    return 3 * x\n");
        var tasks = await project.WriteTasks(Tasks).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("kmixed"), new Dictionary<string, string> { ["n"] = "5" }, new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct });

        Assert.True(await run.WaitAsync(ct) == RunStatus.Succeeded, run.Error?.ToString());
        Assert.Equal("40", (await run.GetRecordAsync(ct)).OutputsJson); // 5² + 3·5
        var actions = await run.GetActionsAsync(ct);
        var parent = Assert.Single(actions, a => a.Task == "kmixed");
        var python = Assert.Single(actions, a => a.ParentId == parent.Id && a.Environment == "kube-py");
        Assert.Equal("15", python.OutputsJson);
        Assert.Contains(api.PlayedYaml.Values, yaml => yaml.Contains("app.ops:triple", StringComparison.Ordinal) && yaml.Contains("flytesharp_runner.py", StringComparison.Ordinal));
        Assert.Single(api.DeletedSecrets);
    }

    [Fact]
    public async Task Run_CancelledWhileTheParentPodWaitsOnAChildPod_BothPodsAndTheSecretAreDeleted_NothingHangs()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = await StartAsync(url: "http://127.0.0.1:{port}");
        using var projectDisposal = project;
        await using var apiDisposal = api;
        var tasks = await project.WriteTasks(Tasks).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("kwaiter"), new Dictionary<string, string> { ["s"] = "600" }, new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct });
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (api.PlayedYaml.Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, ct); // the child's Pod was created: the parent's call waits on it
        }

        Assert.Equal(2, api.PlayedYaml.Count);
        run.Cancel();

        Assert.Equal(RunStatus.Cancelled, await run.WaitAsync(ct).WaitAsync(TimeSpan.FromMinutes(2), ct));
        Assert.Equal(api.PlayedYaml.Keys.Order(StringComparer.Ordinal), api.DeletedPods.Order(StringComparer.Ordinal));
        Assert.Equal([Assert.Single(api.CreatedSecrets).Metadata.Name], api.DeletedSecrets);
    }

    [Fact]
    public async Task Run_ControllerUrlUnreachableFromThePod_ParentFailsWithTheAddressAndTheFix_NothingHangs()
    {
        var ct = TestContext.Current.CancellationToken;

        // The driver listens on a free port; Pods are told a port where nothing listens.
        var (project, api) = await StartAsync(url: "http://127.0.0.1:9/");
        using var projectDisposal = project;
        await using var apiDisposal = api;
        var tasks = await project.WriteTasks(Tasks).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("kparent"), new Dictionary<string, string> { ["n"] = "3" }, new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct });

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct).WaitAsync(TimeSpan.FromMinutes(3), ct));
        var error = (await run.GetRecordAsync(ct)).Error!;
        Assert.Contains("cannot reach the FlyteSharp controller at http://127.0.0.1:9/ to call task 'ksquare'", error.Message, StringComparison.Ordinal);
        Assert.Contains("[kubernetes] controller_url", error.Message + error.Traceback, StringComparison.Ordinal);
        Assert.Single(api.PlayedYaml); // no child ran
        Assert.Equal([Assert.Single(api.CreatedSecrets).Metadata.Name], api.DeletedSecrets);
    }

    [Fact]
    public async Task Run_ControllerUrlNotSet_NestedCallFailsNamingTheSetting_NoSecretIsCreated()
    {
        var ct = TestContext.Current.CancellationToken;
        var (project, api) = await StartAsync(url: null);
        using var projectDisposal = project;
        await using var apiDisposal = api;
        var tasks = await project.WriteTasks(Tasks).BuildAndLoadAsync();

        var run = await project.RunAsync(tasks.FindTask("kparent"), new Dictionary<string, string> { ["n"] = "3" }, new RunOptions { Mode = ExecutionMode.Kubernetes, CancellationToken = ct });

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
        var error = (await run.GetRecordAsync(ct)).Error!;
        Assert.Contains("no controller API to submit it to the driver", error.Message, StringComparison.Ordinal);
        Assert.Contains("set [kubernetes] controller_url in flytesharp.toml", error.Message + error.Traceback, StringComparison.Ordinal);
        Assert.Empty(api.CreatedSecrets);
        Assert.Contains(await run.GetLogsAsync(cancellationToken: ct), l => l.Text.Contains("[kubernetes] controller_url is not set", StringComparison.Ordinal));
    }

    private async Task<(DotnetTaskProject Project, KubePlayApiServer Api)> StartAsync(string? url)
    {
        await DotnetBaseImage.EnsureAsync();
        var project = new DotnetTaskProject(registry);
        var api = new KubePlayApiServer(Path.Combine(project.Root, "kube"));
        project.Config = project.Config with
        {
            StoreUri = $"oci://{registry.Host}/{DotnetTaskProject.SharedRepository}-bundles",
            KubeConfig = api.WriteKubeconfig(),
            ControllerListen = "127.0.0.1:0",
            ControllerUrl = url,
        };
        return (project, api);
    }
}
