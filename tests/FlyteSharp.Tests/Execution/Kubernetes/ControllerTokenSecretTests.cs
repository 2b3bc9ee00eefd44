using System.Diagnostics;
using System.Globalization;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Controller;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Execution.Kubernetes;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using k8s;
using k8s.Models;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Execution.Kubernetes;

/// <summary>
/// The run's controller token as a Kubernetes Secret, against a FAKE API server (<see cref="FakeKubernetesApi"/>: no
/// Kubernetes API server can run here): created once per run, owner-labelled, referenced by every C# Pod that may call
/// children, never a literal in a Pod spec, deleted at run end and by <c>runs gc</c> when its driver is gone. A real Pod
/// reading it through the controller API runs under <c>podman kube play</c> in the integration tests.
/// </summary>
public sealed class ControllerTokenSecretTests : IAsyncDisposable
{
    private static readonly TaskEnvironment Env = new("k8s-ctl", Image.FromDotnetBase(), new Resources(Memory: "128Mi"));

    private static readonly FlyteTask<int, int> Parent = Env.Task("ctl_parent", async (int n) => await Task.FromResult(n));

    private readonly FakeKubernetesApi _api = new();
    private readonly string _home = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EnsureAsync_ManyPodsOfOneRun_CreatesOneOwnerLabelledSecretAndDisposeDeletesIt()
    {
        using var client = _api.Client();
        var pods = new KubernetesPods(client, "flytesharp-tests", TimeProvider.System);
        var token = ControllerToken.Create();
        var secret = new RunTokenSecret(pods, "Nightly_Run.7");

        var names = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => secret.EnsureAsync(token, Ct)));

        var created = Assert.Single(_api.CreatedSecrets);
        Assert.All(names, n => Assert.Equal(created.Metadata.Name, n));
        Assert.Equal(token.Value, System.Text.Encoding.ASCII.GetString(created.Data["controller.token"]));
        Assert.Equal("controller-token", created.Metadata.Labels["flytesharp.io/component"]);
        Assert.Equal("flytesharp", created.Metadata.Labels["app.kubernetes.io/managed-by"]);
        Assert.Equal("Nightly_Run.7", created.Metadata.Annotations["flytesharp.io/run"]);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), created.Metadata.Annotations["flytesharp.io/owner-pid"]);
        Assert.Matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", created.Metadata.Name);
        Assert.Empty(_api.DeletedSecrets);

        await secret.DisposeAsync();

        Assert.Equal([created.Metadata.Name], _api.DeletedSecrets);
        Assert.Empty(_api.SecretObjects);
    }

    [Fact]
    public async Task DisposeAsync_NoPodNeededTheToken_CreatesAndDeletesNothing()
    {
        using var client = _api.Client();
        var secret = new RunTokenSecret(new KubernetesPods(client, "flytesharp-tests", TimeProvider.System), "leaf-only");

        await secret.DisposeAsync();

        Assert.Empty(_api.CreatedSecrets);
        Assert.DoesNotContain(_api.Requests, r => r.Contains("/secrets", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pod_WithControllerAccess_MountsTheRunsSecretAndPassesTheUrl_TheTokenIsInNoPodSpec()
    {
        await using var executor = new KubernetesDotnetExecutor(
            new DotnetExecutorContext("ctl-run", Path.GetTempPath(), new FlyteConfig { StoreUri = $"oci://{_api.Host}/b" }, new RunSecrets(new FlyteConfig())),
            new FixedImageSource(), _api.Client(), "flytesharp-tests", ownsClient: true);
        var token = ControllerToken.Create();
        using var registration = new EmptyDisposable();
        var access = new DotnetControllerAccess(["--controller", "http://10.1.2.3:7443/", "--controller-token-file", ControllerProtocol.ContainerTokenPath], [], registration) { Token = token };
        var bundle = new DotnetBundle("sha256:" + new string('b', 64), "/cache/x.tar.gz", "App.dll", ["App.dll"], new Version(10, 0));
        var code = new DotnetTaskCode(bundle.EntryAssembly, bundle.Digest, null, bundle.ArchivePath, "");
        var request = new DotnetTaskRequest(Parent, """{"n":1}""", null, "a0ctl", (_, _) => { }, (_, _) => { });

        var pod = executor.Pod(request, FixedImageSource.Image, "https://r.example/v2/b/blobs/" + bundle.Digest, code, """{"n":1}""", 1, access, "flytesharp-ctl-run-0-ctl1234");

        var container = Assert.Single(pod.Spec.Containers);
        var command = container.Command.ToList();
        Assert.Equal("http://10.1.2.3:7443/", command[command.IndexOf("--controller") + 1]);
        Assert.Equal("/run/flytesharp/controller.token", command[command.IndexOf("--controller-token-file") + 1]);
        var volume = Assert.Single(pod.Spec.Volumes, v => v.Name == "flytesharp-controller");
        Assert.Equal("flytesharp-ctl-run-0-ctl1234", volume.Secret.SecretName);
        Assert.Equal(Convert.ToInt32("400", 8), volume.Secret.DefaultMode);
        var mount = Assert.Single(container.VolumeMounts, m => m.Name == "flytesharp-controller");
        Assert.Equal("/run/flytesharp", mount.MountPath);
        Assert.True(mount.ReadOnlyProperty);
        var serialized = KubernetesJson.Serialize(pod) + KubernetesYaml.Serialize(pod);
        Assert.DoesNotContain(token.Value, serialized, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(token.Value)), serialized, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pod_WithoutControllerAccess_HasNoControllerArgumentsAndNoSecretVolume()
    {
        await using var executor = new KubernetesDotnetExecutor(
            new DotnetExecutorContext("ctl-run", Path.GetTempPath(), new FlyteConfig { StoreUri = $"oci://{_api.Host}/b" }, new RunSecrets(new FlyteConfig())),
            new FixedImageSource(), _api.Client(), "flytesharp-tests", ownsClient: true);
        var bundle = new DotnetBundle("sha256:" + new string('b', 64), "/cache/x.tar.gz", "App.dll", ["App.dll"], new Version(10, 0));
        var code = new DotnetTaskCode(bundle.EntryAssembly, bundle.Digest, null, bundle.ArchivePath, "");
        var request = new DotnetTaskRequest(Parent, """{"n":1}""", null, "a0ctl", (_, _) => { }, (_, _) => { });

        var pod = executor.Pod(request, FixedImageSource.Image, "https://r.example/v2/b/blobs/" + bundle.Digest, code, """{"n":1}""", 1);

        Assert.DoesNotContain("--controller", pod.Spec.Containers[0].Command);
        Assert.Null(pod.Spec.Volumes);
    }

    [Fact]
    public async Task RemoveControllerSecrets_OnlyThoseOfGoneDrivers_AreDeleted()
    {
        using var client = _api.Client();
        var pods = new KubernetesPods(client, "flytesharp-tests", TimeProvider.System);
        Directory.CreateDirectory(_home);
        var store = RunStore.Open(Path.Combine(_home, "runs.db"));
        var (deadPid, deadStart) = DeadProcess();
        Add("of-dead-driver", Owned("killed", RunStore.Self.Host, deadPid, deadStart));
        Add("of-this-driver", Owned("live", RunStore.Self.Host, RunStore.Self.Pid, RunStore.Self.Start));
        Add("of-unknown-host", Owned("elsewhere", "another-host.example", 1, 1));
        Add("unlabelled-owner", new V1ObjectMeta { Labels = new Dictionary<string, string> { ["flytesharp.io/component"] = "controller-token" } });

        var removed = await KubernetesSweeper.RemoveControllerSecretsAsync(pods, store, Ct);

        Assert.Equal(["flytesharp-tests/of-dead-driver (run killed)"], removed);
        Assert.Equal(["of-dead-driver"], _api.DeletedSecrets);
        Assert.Equal(["of-this-driver", "of-unknown-host", "unlabelled-owner"], _api.SecretObjects.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RemoveControllerSecrets_AnotherHostsLiveRunSharesAFinishedLocalRunsName_ItsSecretIsKept()
    {
        // Run names are chosen by users and unique only within one store: another host's driver may run "nightly" while
        // this store holds a finished "nightly" of its own. That other driver's Secret is live and must stay.
        using var client = _api.Client();
        var pods = new KubernetesPods(client, "flytesharp-tests", TimeProvider.System);
        Directory.CreateDirectory(_home);
        var database = Path.Combine(_home, "runs.db");
        var store = RunStore.Open(database);
        store.InsertRun(new RunRecord("nightly", "root", "env", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, ExecutionMode.Kubernetes), null);
        using (var connection = new SqliteConnection($"Data Source={database}"))
        {
            connection.Open();
            using var finish = connection.CreateCommand();
            finish.CommandText = "UPDATE runs SET status = 'succeeded' WHERE name = 'nightly'";
            Assert.Equal(1, finish.ExecuteNonQuery());
        }

        Add("of-other-hosts-nightly", Owned("nightly", "another-host.example", 4242, 1));

        var removed = await KubernetesSweeper.RemoveControllerSecretsAsync(pods, store, Ct);

        Assert.Empty(removed);
        Assert.Empty(_api.DeletedSecrets);
        Assert.Equal(["of-other-hosts-nightly"], _api.SecretObjects.Keys);
    }

    [Fact]
    public async Task RunsGcSweep_KubernetesMode_DeletesTheTokenSecretOfAGoneDriver_AndReportsAnUnreachableCluster()
    {
        var (deadPid, deadStart) = DeadProcess();
        Add("of-dead-driver", Owned("killed", RunStore.Self.Host, deadPid, deadStart));
        Directory.CreateDirectory(_home);
        var config = new FlyteConfig { Home = _home, RunDatabase = Path.Combine(_home, "runs.db"), Mode = ExecutionMode.Kubernetes, KubeConfig = Kubeconfig(_api.Port) };

        var report = await FlyteSharp.Execution.Sandboxes.SandboxSweeper.SweepAsync(config, RunStore.Open(config.EffectiveRunDatabase), TimeSpan.FromHours(1), null, allContainers: true, Ct);
        var unreachable = await FlyteSharp.Execution.Sandboxes.SandboxSweeper.SweepAsync(config with { KubeConfig = Kubeconfig(9) },
            RunStore.Open(config.EffectiveRunDatabase), TimeSpan.FromHours(1), null, allContainers: true, Ct);

        Assert.Equal(["flytesharp-tests/of-dead-driver (run killed)"], report.RemovedKubernetesSecrets);
        Assert.Null(report.KubernetesError);
        Assert.Empty(unreachable.RemovedKubernetesSecrets);
        Assert.Contains("the Kubernetes API could not be reached", unreachable.KubernetesError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartTcp_ControllerUrlNotAUrl_FailsNamingTheSettingAndTheFix()
    {
        var error = await Assert.ThrowsAsync<FlyteSharpException>(async () =>
        {
            var server = ControllerServer.StartTcp(null!, Path.Combine(_home, "controller"), "127.0.0.1:0", "driver.example:7443");
            await server.DisposeAsync();
        });

        Assert.Contains("[kubernetes] controller_url 'driver.example:7443' is not an http://host:port URL", error.Reason, StringComparison.Ordinal);
        Assert.Contains("set [kubernetes] controller_url in flytesharp.toml", error.Fix, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_home, "controller", "controller.token")));
    }

    private string Kubeconfig(int port)
    {
        var path = Path.Combine(_home, $"kubeconfig-{port.ToString(CultureInfo.InvariantCulture)}");
        Directory.CreateDirectory(_home);
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters: [{"{"}name: fake, cluster: {"{"}server: "http://127.0.0.1:{port}"{"}"}{"}"}]
            users: [{"{"}name: fake, user: {"{"}token: not-checked{"}"}{"}"}]
            contexts: [{"{"}name: fake, context: {"{"}cluster: fake, user: fake, namespace: flytesharp-tests{"}"}{"}"}]
            current-context: fake
            """);
        return path;
    }

    private void Add(string name, V1ObjectMeta metadata)
    {
        metadata.Name = name;
        _api.SecretObjects[name] = new V1Secret { Metadata = metadata, Data = new Dictionary<string, byte[]> { ["controller.token"] = [1] } };
    }

    private static V1ObjectMeta Owned(string run, string host, int pid, long start)
    {
        var secret = ControllerTokenSecret.Build("x", "flytesharp-tests", run, ControllerToken.Create());
        secret.Metadata.Annotations["flytesharp.io/owner-host"] = host;
        secret.Metadata.Annotations["flytesharp.io/owner-pid"] = pid.ToString(CultureInfo.InvariantCulture);
        secret.Metadata.Annotations["flytesharp.io/owner-start"] = start.ToString(CultureInfo.InvariantCulture);
        return secret.Metadata;
    }

    private static (int Pid, long Start) DeadProcess()
    {
        using var process = Process.Start(new ProcessStartInfo("sleep", "0.2") { UseShellExecute = false })!;
        var start = process.StartTime.ToUniversalTime().Ticks;
        process.WaitForExit();
        return (process.Id, start);
    }

    private sealed class EmptyDisposable : IDisposable
    {
        public void Dispose()
        {
        }
    }

    private sealed class FixedImageSource : IContainerImageSource
    {
        public static ContainerImage Image { get; } = new("registry.example.com/flytesharp:abc", "python3", "/opt/flytesharp/flytesharp_runner.py", null, false);

        public Task<string> RuntimeAsync(CancellationToken cancellationToken) => Task.FromResult("podman");

        public Task<ContainerImage> GetAsync(TaskEnvironment environment, CancellationToken cancellationToken) => Task.FromResult(Image);
    }
}
