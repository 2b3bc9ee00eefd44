using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Kubernetes;
using FlyteSharp.Execution.Python;
using FlyteSharp.Images;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;
using k8s;
using k8s.Models;

namespace FlyteSharp.Tests.Execution.Kubernetes;

/// <summary>
/// The Kubernetes executor against a FAKE API server (<see cref="FakeKubernetesApi"/>): no Kubernetes API server can
/// run on this machine. The fake records the pod the executor creates and plays each pod's life from the test's
/// scenario; in the success and traceback tests it runs the pod's command here with python3 and the real runner,
/// which downloads the real bundle from the fake's blob endpoint. Image builds are not part of these tests (the
/// container tests cover them): a fixed image source hands the executor an image URI.
/// </summary>
public sealed class KubernetesPythonExecutorTests : IAsyncLifetime
{
    private const string ImageUri = "registry.example.com/flytesharp/etl:3f9a1c";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flytesharp-tests", "k8s-" + Guid.NewGuid().ToString("n"));
    private readonly FakeKubernetesApi _api = new();
    private PythonExecutorContext _context = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var src = Path.Combine(_root, "src");
        Directory.CreateDirectory(Path.Combine(src, "app"));
        await File.WriteAllTextAsync(Path.Combine(src, "app", "__init__.py"), "", Token);
        await File.WriteAllTextAsync(Path.Combine(src, "app", "math.py"), """
            def double(x: int) -> int:
                print(f"doubling {x}")
                return x * 2


            def fail(x: int) -> int:
                raise ValueError(f"bad input {x}")


            def show(x: int) -> str:
                import os
                return os.environ["LEVEL"] + ":" + os.environ["DB_PASSWORD"]
            """.ReplaceLineEndings("\n"), Token);
        var bundle = await CodeBundler.CreateAsync(src, new BundleOptions { CacheDirectory = Path.Combine(_root, "cache") }, Token);
        _api.AddBlob("flytesharp/bundles", bundle.Digest, await File.ReadAllBytesAsync(bundle.ArchivePath, Token));
        var config = new FlyteConfig
        {
            Home = Path.Combine(_root, "home"),
            StoreUri = $"oci://{_api.Host}/flytesharp/bundles",
            InsecureRegistries = [_api.Host],
        };
        // No extracted bundle: describe cannot answer locally and must run a pod.
        _context = new PythonExecutorContext("etl-run-1", Path.Combine(_root, "sandbox"),
            new PythonBundle(bundle.Digest, bundle.ArchivePath, $"oci://{_api.Host}/flytesharp/bundles@{bundle.Digest}", Path.Combine(_root, "not-extracted")),
            config, src);
        var runner = Path.Combine(_root, PythonRunnerScript.FileName);
        await File.WriteAllBytesAsync(runner, PythonRunnerScript.Bytes, Token);
        Images = new FixedImageSource(new ContainerImage(ImageUri, "python3", runner, null, InsecureRegistry: false));
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private FixedImageSource Images { get; set; } = null!;

    [Fact]
    public async Task ExecuteAsync_AnyTask_PodSpecCarriesImageResourcesLabelsRunnerArgsAndNeverRestarts()
    {
        await using var executor = Executor();
        var env = Environment(new Resources(Cpu: "500m", Memory: "256Mi", Gpu: "1", Disk: "2Gi"));

        await executor.ExecuteAsync(Request(env, "app.math:double", """{"x": 21}"""), Token);

        var pod = Assert.Single(_api.Created);
        Assert.Equal("flytesharp-tests", pod.Metadata.NamespaceProperty);
        Assert.StartsWith("flytesharp-etl-run-1-1-", pod.Metadata.Name);
        Assert.Equal("Never", pod.Spec.RestartPolicy);
        Assert.Equal("etl-run-1", pod.Metadata.Labels["flytesharp.io/run"]);
        Assert.Equal("a0.double", pod.Metadata.Labels["flytesharp.io/action"]);
        Assert.Equal("app.math-double", pod.Metadata.Labels["flytesharp.io/task"]);
        Assert.Equal("app.math:double", pod.Metadata.Annotations["flytesharp.io/task"]);
        var container = Assert.Single(pod.Spec.Containers);
        Assert.Equal(ImageUri, container.Image);
        Assert.Equal("500m", container.Resources.Requests["cpu"].ToString());
        Assert.Equal("500m", container.Resources.Limits["cpu"].ToString());
        Assert.Equal("256Mi", container.Resources.Limits["memory"].ToString());
        Assert.Equal("256Mi", container.Resources.Requests["memory"].ToString());
        Assert.Equal("1", container.Resources.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal("2Gi", container.Resources.Limits["ephemeral-storage"].ToString());
        var command = container.Command;
        Assert.Equal("python3", command[0]);
        Assert.Equal($"http://{_api.Host}/v2/flytesharp/bundles/blobs/{_context.Bundle.Digest}", After(command, "--bundle"));
        Assert.Equal(_context.Bundle.Digest, After(command, "--digest"));
        Assert.Equal("/tmp/flytesharp/bundle", After(command, "--bundle-dir"));
        Assert.Equal("app.math:double", After(command, "--task"));
        Assert.Equal("FLYTESHARP_INPUTS", After(command, "--inputs-env"));
        Assert.Contains("--result-stdout", command);
        Assert.Equal("""{"x": 21}""", container.Env.Single(e => e.Name == "FLYTESHARP_INPUTS").Value);
    }

    [Fact]
    public async Task ExecuteAsync_EnvVarsAndSecrets_PodEnvPlainAndSecretKeyRefWithoutValue()
    {
        var value = "pw-" + Guid.NewGuid().ToString("N");
        _api.Secrets["prod-db"] = new() { ["password"] = value };
        await using var executor = Executor();
        var env = new TaskEnvironment("etl", Image.FromDebianBase(), envVars: new Dictionary<string, string> { ["LEVEL"] = "info" },
            secrets: [new Secret("password", Group: "prod_db", AsEnvVar: "DB_PASSWORD"), new Secret("password", Group: "prod_db", Mount: "/etc/db")]);

        var result = await executor.ExecuteAsync(Request(env, "app.math:show", """{"x": 1}"""), Token);

        Assert.Null(result.Error);
        Assert.Equal($"\"info:{value}\"", result.OutputJson);
        var pod = Assert.Single(_api.Created);
        var container = pod.Spec.Containers[0];
        Assert.Equal("info", container.Env.Single(e => e.Name == "LEVEL").Value);
        var reference = container.Env.Single(e => e.Name == "DB_PASSWORD");
        Assert.Null(reference.Value);
        Assert.Equal(("prod-db", "password"), (reference.ValueFrom.SecretKeyRef.Name, reference.ValueFrom.SecretKeyRef.Key));
        var mount = Assert.Single(container.VolumeMounts);
        Assert.Equal(("/etc/db/password", true), (mount.MountPath, mount.ReadOnlyProperty == true));
        Assert.Equal("prod-db", pod.Spec.Volumes.Single(v => v.Name == mount.Name).Secret.SecretName);
        Assert.DoesNotContain(value, KubernetesJson.Serialize(pod), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_KubernetesSecretOrKeyMissing_FailsBeforeAnyPodNamingSecretAndNamespace()
    {
        _api.Secrets["other"] = new() { ["token"] = "x" };
        await using var executor = Executor();
        var missingSecret = new TaskEnvironment("etl", Image.FromDebianBase(), secrets: [new Secret("password", Group: "prod-db")]);
        var missingKey = new TaskEnvironment("etl", Image.FromDebianBase(), secrets: [new Secret("password", Group: "other")]);

        var noSecret = await Assert.ThrowsAsync<FlyteSharpException>(() => executor.ExecuteAsync(Request(missingSecret, "app.math:double", """{"x": 1}"""), Token));
        var noKey = await Assert.ThrowsAsync<FlyteSharpException>(() => executor.ExecuteAsync(Request(missingKey, "app.math:double", """{"x": 1}"""), Token));

        Assert.Contains("secret prod-db/password of task environment 'etl' was not found: namespace 'flytesharp-tests' has no Kubernetes Secret 'prod-db'", noSecret.Message);
        Assert.Contains("Kubernetes Secret 'other' in namespace 'flytesharp-tests' has no key 'password'", noKey.Message);
        Assert.Empty(_api.Created);
    }

    [Fact]
    public async Task ExecuteAsync_TaskReturns_OutputReadFromPodLogAndLogStreamedAndPodDeleted()
    {
        await using var executor = Executor();
        var lines = new List<(string Stream, string Line)>();

        var result = await executor.ExecuteAsync(Request(Environment(new Resources()), "app.math:double", """{"x": 21}""", lines), Token);

        Assert.Null(result.Error);
        Assert.Equal("42", result.OutputJson);
        Assert.Contains(("stdout", "doubling 21"), lines);
        Assert.DoesNotContain(lines, l => l.Line.Contains("FLYTESHARP-RESULT", StringComparison.Ordinal));
        Assert.Equal(_api.Created.Single().Metadata.Name, Assert.Single(_api.Deleted));
        Assert.Contains(_api.Requests, r => r.StartsWith("GET /api/v1/namespaces/flytesharp-tests/pods?", StringComparison.Ordinal) && r.Contains("watch=true", StringComparison.Ordinal));
        Assert.Contains(_api.Requests, r => r.Contains("/log?", StringComparison.Ordinal) && r.Contains("follow=true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExecuteAsync_TaskRaises_ErrorCarriesPythonTraceback()
    {
        await using var executor = Executor();
        var lines = new List<(string Stream, string Line)>();

        var result = await executor.ExecuteAsync(Request(Environment(new Resources()), "app.math:fail", """{"x": 7}""", lines), Token);

        Assert.Null(result.OutputJson);
        var error = Assert.IsType<TaskReplyError>(result.Error);
        Assert.Equal("ValueError", error.Type);
        Assert.Equal("bad input 7", error.Message);
        Assert.Contains("app/math.py", error.Traceback, StringComparison.Ordinal);
        Assert.Contains("raise ValueError", error.Traceback, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Line.StartsWith("ValueError: bad input 7", StringComparison.Ordinal));
        Assert.Single(_api.Deleted);
    }

    [Fact]
    public async Task ExecuteAsync_StoreServesOtherBytes_PodRefusesTheBundle()
    {
        _api.AddBlob("flytesharp/bundles", _context.Bundle.Digest, "not the bundle"u8.ToArray());
        await using var executor = Executor();

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            executor.ExecuteAsync(Request(Environment(new Resources()), "app.math:double", """{"x": 1}"""), Token));

        Assert.Contains("refused the code bundle", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not the one this run recorded", ex.Fix, StringComparison.Ordinal);
        Assert.Single(_api.Deleted);
    }

    [Fact]
    public async Task ExecuteAsync_ContainerOomKilled_ThrowsOutOfMemoryWithLimit()
    {
        _api.Scenario = _ => PodScenario.Script("allocating\n", PodStatuses.Running(), PodStatuses.Terminated(137, "OOMKilled"));
        await using var executor = Executor();

        var ex = await Assert.ThrowsAsync<ContainerOutOfMemoryException>(() =>
            executor.ExecuteAsync(Request(Environment(new Resources(Memory: "64Mi")), "app.math:double", """{"x": 1}"""), Token));

        Assert.Equal("64Mi", ex.MemoryLimit);
        Assert.Contains("ran out of memory", ex.Message, StringComparison.Ordinal);
        Assert.Single(_api.Deleted);
    }

    [Fact]
    public async Task ExecuteAsync_ImagePullBackOff_ThrowsNamingImageAndDeletesPod()
    {
        _api.Scenario = _ => PodScenario.Script("", PodStatuses.Waiting("ImagePullBackOff", "Back-off pulling image \"" + ImageUri + "\""));
        await using var executor = Executor();

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            executor.ExecuteAsync(Request(Environment(new Resources()), "app.math:double", """{"x": 1}"""), Token));

        Assert.Contains($"cannot pull image {ImageUri}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ImagePullBackOff", ex.Message, StringComparison.Ordinal);
        Assert.Contains("registry the cluster's nodes can reach", ex.Fix, StringComparison.Ordinal);
        Assert.Single(_api.Deleted);
    }

    [Fact]
    public async Task ExecuteAsync_Unschedulable_ThrowsWithSchedulerMessage()
    {
        _api.Scenario = _ => PodScenario.Script("", PodStatuses.Unschedulable("0/3 nodes are available: 3 Insufficient nvidia.com/gpu."));
        await using var executor = Executor();

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            executor.ExecuteAsync(Request(Environment(new Resources(Gpu: "4")), "app.math:double", """{"x": 1}"""), Token));

        Assert.Contains("cannot be scheduled", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Insufficient nvidia.com/gpu", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Resources", ex.Fix, StringComparison.Ordinal);
        Assert.Single(_api.Deleted);
    }

    [Fact]
    public async Task ExecuteAsync_Cancelled_DeletesPod()
    {
        _api.Scenario = _ => PodScenario.Hang;
        await using var executor = Executor();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);

        var running = executor.ExecuteAsync(Request(Environment(new Resources()), "app.math:double", """{"x": 1}"""), cts.Token);
        var watched = await _api.WatchOpened.Task.WaitAsync(Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal(watched, Assert.Single(_api.Deleted));
    }

    [Fact]
    public async Task DescribeAsync_NoLocalBundle_DescribesInPod()
    {
        await using var executor = Executor();

        var infos = await executor.DescribeAsync(Environment(new Resources()), [PythonTaskReference.Parse("app.math:double"), PythonTaskReference.Parse("app.math:missing")], Token);

        Assert.True(infos[0].Ok);
        Assert.Equal("x", Assert.Single(infos[0].Parameters).Name);
        Assert.False(infos[1].Ok);
        Assert.Equal("FunctionNotFound", infos[1].ErrorType);
        Assert.Equal("describe", Assert.Single(_api.Created).Metadata.Labels["flytesharp.io/task"]);
        Assert.Single(_api.Deleted);
    }

    [Fact]
    public void Constructor_FileStore_RefusedNamingTheOciFix()
    {
        var fileStore = _context with
        {
            Bundle = _context.Bundle with { StoreUri = null },
            Config = _context.Config with { StoreUri = new Uri(Path.Combine(_root, "store")).AbsoluteUri },
        };

        var ex = Assert.Throws<FlyteSharpException>(() => new KubernetesPythonExecutor(fileStore, Images, _api.Client(), "default"));

        Assert.Contains("file://", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[storage] uri = \"oci://", ex.Fix, StringComparison.Ordinal);
        Assert.Empty(_api.Requests);
    }

    private KubernetesPythonExecutor Executor() => new(_context, Images, _api.Client(), "flytesharp-tests", ownsClient: true);

    private static TaskEnvironment Environment(Resources resources) => new("etl", Image.FromDebianBase(), resources);

    private static PythonTaskRequest Request(TaskEnvironment env, string task, string inputs, List<(string, string)>? lines = null) =>
        new(PythonTaskReference.Parse(task), env, inputs, "a0.double", (stream, line) =>
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
