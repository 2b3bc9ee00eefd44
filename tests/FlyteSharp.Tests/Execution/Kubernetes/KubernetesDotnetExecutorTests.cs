using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Kubernetes;

/// <summary>
/// The C# Kubernetes executor's pod, against a FAKE API server (<see cref="FakeKubernetesApi"/>: no Kubernetes API
/// server can run here). The same pods run for real under <c>podman kube play</c> in the integration tests.
/// </summary>
public sealed class KubernetesDotnetExecutorTests : IAsyncDisposable
{
    private static readonly TaskEnvironment Env = new("k8s-dotnet", Image.FromDotnetBase(), new Resources(Cpu: "500m", Memory: "256Mi"),
        envVars: new Dictionary<string, string> { ["LEVEL"] = "info" }, secrets: [new Secret("db_password")]);

    private static readonly FlyteTask<int, int> Double = Env.Task("double", async (int n) => await Task.FromResult(n * 2));

    private readonly FakeKubernetesApi _api = new();

    public async ValueTask DisposeAsync() => await _api.DisposeAsync();

    private KubernetesDotnetExecutor Executor(string store) =>
        new(new DotnetExecutorContext("csharp-run-1", Path.GetTempPath(), new FlyteConfig { StoreUri = store }, new RunSecrets(new FlyteConfig())),
            new FixedImageSource(new ContainerImage("registry.example.com/flytesharp:abc", "python3", "/opt/flytesharp/flytesharp_runner.py", null, false)),
            _api.Client(), "flytesharp-tests", ownsClient: true);

    [Fact]
    public async Task Pod_CSharpAction_RunsTheWorkerOnTheBundleWithResourcesInputsAndSecretsByReference()
    {
        await using var executor = Executor($"oci://{_api.Host}/flytesharp/bundles");
        var bundle = new DotnetBundle("sha256:" + new string('a', 64), "/cache/x.tar.gz", "App.dll", ["App.deps.json", "App.dll"], new Version(10, 0));
        var code = new DotnetTaskCode(bundle.EntryAssembly, bundle.Digest, null, bundle.ArchivePath, "");
        var request = new DotnetTaskRequest(Double, """{"n":21}""", null, "a0double", (_, _) => { }, (_, _) => { });

        var pod = executor.Pod(request, new ContainerImage("registry.example.com/flytesharp:abc", "python3", "/r.py", null, false),
            "https://registry.example.com/v2/flytesharp/bundles/blobs/" + bundle.Digest, code, """{"n":21}""", 3);

        var container = Assert.Single(pod.Spec.Containers);
        Assert.Equal(["dotnet", "/opt/flytesharp/worker/flytesharp-worker.dll", "--bundle", "https://registry.example.com/v2/flytesharp/bundles/blobs/" + bundle.Digest,
            "--digest", bundle.Digest, "--bundle-dir", "/tmp/flytesharp/dotnet-bundle", "--assembly", "App.dll", "--task", "double",
            "--inputs-env", "FLYTESHARP_INPUTS", "--result-stdout", "--run", "csharp-run-1", "--action", "a0double"], container.Command);
        Assert.Equal("registry.example.com/flytesharp:abc", container.Image);
        Assert.Equal("256Mi", container.Resources.Limits["memory"].ToString());
        Assert.Equal("500m", container.Resources.Requests["cpu"].ToString());
        Assert.Equal("""{"n":21}""", container.Env.Single(e => e.Name == "FLYTESHARP_INPUTS").Value);
        Assert.Equal("info", container.Env.Single(e => e.Name == "LEVEL").Value);
        Assert.Equal("db-password", container.Env.Single(e => e.Name == "DB_PASSWORD").ValueFrom.SecretKeyRef.Name);
        Assert.Equal("Never", pod.Spec.RestartPolicy);
        Assert.StartsWith("flytesharp-csharp-run-1-3-", pod.Metadata.Name, StringComparison.Ordinal);
        Assert.Equal("double", pod.Metadata.Labels["flytesharp.io/task"]);
    }

    [Fact]
    public void Create_FileStore_IsRefusedNamingTheStoreAndTheFix()
    {
        var error = Assert.Throws<FlyteSharpException>(() => Executor("file:///tmp/store"));

        Assert.Contains("kubernetes mode needs the .NET code bundle in an oci:// store", error.Reason, StringComparison.Ordinal);
        Assert.Contains("[storage] uri", error.Fix, StringComparison.Ordinal);
    }

    private static readonly TaskEnvironment Deployed = new("k8s-deployed", Image.FromDotnetBase(), new Resources(Memory: "128Mi"));

    private static readonly FlyteTask<int, int> Triple = Deployed.Task("triple", async (int n) => await Task.FromResult(n * 3));

    private sealed class RecordedCode(DotnetTaskCode code) : IDotnetCodeSource
    {
        public Task<DotnetTaskCode> CodeForAsync(TaskDefinition task, CancellationToken cancellationToken) => Task.FromResult(code);
    }

    private KubernetesDotnetExecutor DeployedExecutor(DotnetTaskCode code) =>
        new(new DotnetExecutorContext("deployed-run-1", Path.GetTempPath(), new FlyteConfig { StoreUri = "file:///tmp/store" }, new RunSecrets(new FlyteConfig())),
            new FixedImageSource(new ContainerImage("registry.example.com/flytesharp:deployed", "dotnet", "/opt/flytesharp/flytesharp_runner.py", null, false)),
            _api.Client(), "flytesharp-tests", ownsClient: true, code: code is null ? null : new RecordedCode(code));

    [Fact]
    public async Task Execute_DeployedVersionWithBakedAssemblies_RunsAPodOfTheDeployedImageWithoutBundle_EvenWithAFileStore()
    {
        var ct = TestContext.Current.CancellationToken;
        _api.Scenario = _ => PodScenario.Script("FLYTESHARP-RESULT-BEGIN {\"ok\": true, \"output\": 6} FLYTESHARP-RESULT-END\n", PodStatuses.Running(), PodStatuses.Terminated(0, "Completed"));
        await using var executor = DeployedExecutor(new DotnetTaskCode("App.dll", null, null, null, "assemblies of version 1.0.0 baked into the image (/opt/flytesharp/app/App.dll)"));
        var logged = new List<string>();

        var reply = await executor.ExecuteAsync(new DotnetTaskRequest(Triple, """{"n":2}""", null, "a0triple", (_, line) => logged.Add(line), (_, _) => { }), ct);

        Assert.Equal("6", reply.OutputJson);
        var pod = Assert.Single(_api.Created);
        var container = Assert.Single(pod.Spec.Containers);
        Assert.Equal("registry.example.com/flytesharp:deployed", container.Image);
        Assert.Equal(["dotnet", "/opt/flytesharp/worker/flytesharp-worker.dll", "--app-dir", "/opt/flytesharp/app", "--assembly", "App.dll", "--task", "triple",
            "--inputs-env", "FLYTESHARP_INPUTS", "--result-stdout", "--run", "deployed-run-1", "--action", "a0triple"], container.Command);
        Assert.Contains("assemblies of version 1.0.0 baked into the image (/opt/flytesharp/app/App.dll)", logged);
    }

    [Fact]
    public async Task Execute_DeployedBundleInAFileStore_IsRefusedBeforeAnyPod()
    {
        var digest = "sha256:" + new string('d', 64);
        await using var executor = DeployedExecutor(new DotnetTaskCode("App.dll", digest, "file:///tmp/store/blobs/sha256/" + new string('d', 64), null, ""));

        var error = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            executor.ExecuteAsync(new DotnetTaskRequest(Triple, """{"n":2}""", null, "a0triple", (_, _) => { }, (_, _) => { }), TestContext.Current.CancellationToken));

        Assert.Contains($"the .NET bundle {digest} of task 'triple' is at file:///tmp/store", error.Message, StringComparison.Ordinal);
        Assert.Contains("oci://", error.Fix, StringComparison.Ordinal);
        Assert.Empty(_api.Created);
    }

    private sealed class FixedImageSource(ContainerImage image) : IContainerImageSource
    {
        public Task<string> RuntimeAsync(CancellationToken cancellationToken) => Task.FromResult("podman");

        public Task<ContainerImage> GetAsync(TaskEnvironment environment, CancellationToken cancellationToken) => Task.FromResult(image);
    }
}
