using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Bundles;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Execution.Kubernetes;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Dotnet;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runner;
using FlyteSharp.Storage;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Kubernetes;

/// <summary>
/// The Pods the Kubernetes executors build (C# and Python actions), run for real under <c>podman kube play</c>: no
/// Kubernetes API server can run here (the executor tests use a fake one), and kube play is the nearest real runtime
/// for Pod specs on this machine. Each pod runs against the test registry — its image built and pushed as a run builds
/// it, its bundle in an oci:// store — and the test checks the result line, the exit code and that the memory limit
/// reached the container's cgroup.
/// </summary>
public class PodKubePlayTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task Play_DotnetExecutorsPod_RunsTheWorkerOnTheBundleWithTheMemoryLimit()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        project.Config = project.Config with { StoreUri = $"oci://{registry.Host}/{DotnetTaskProject.SharedRepository}-bundles" };
        var task = (await project.WriteTasks(ContainerDotnetExecutorTests.TasksV1).BuildAndLoadAsync()).FindTask("probe");
        var images = new BuildingImageSource(project.Config, c => ImageBuildServices.CreateAsync(project.Config, cancellationToken: c));
        var image = await images.GetAsync(task.Environment, ct);
        var code = await new DotnetRunBundles(project.Config).CodeForAsync(task, ct);
        using var unreachable = new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = "http://127.0.0.1:9/" });
        await using var executor = new KubernetesDotnetExecutor(new DotnetExecutorContext("kube-play", Path.Combine(project.Root, "sandbox"), project.Config, new RunSecrets(project.Config)),
            images, unreachable, "default");
        var source = ContainerBundleSource.For(code.BundleUri, null, code.BundleDigest!, project.Config.EffectiveStoreUri, project.Config.InsecureRegistries);
        var request = new DotnetTaskRequest(task, """{"n":21}""", null, "a0probe", (_, _) => { }, (_, _) => { });

        var pod = executor.Pod(request, image, source.Source, code, """{"n":21}""", 1);
        var (exitCode, log, yaml) = await KubePlay.RunAsync(pod, Path.Combine(project.Root, "pods"));

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{log}\n{yaml}");
        var podLog = new PodLog(null);
        foreach (var line in log.Split('\n'))
        {
            podLog.Add(line);
        }

        using var reply = JsonDocument.Parse(podLog.ResultJson!);
        var result = RunnerProtocol.ParseCall(reply.RootElement, exitCode, "pod");
        using var output = JsonDocument.Parse(result.OutputJson!);
        Assert.Equal(42, output.RootElement.GetProperty("doubled").GetInt32());
        Assert.Equal("hello from the environment", output.RootElement.GetProperty("greeting").GetString());
        Assert.Equal((256L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), output.RootElement.GetProperty("memory_limit").GetString());
        Assert.Contains("probing 21", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Play_PythonExecutorsPod_RunsTheRunnerOnTheBundleWithTheMemoryLimit()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.Config = project.Config with { StoreUri = $"oci://{registry.Host}/{project.Repository}-bundles" };
        project.WritePython("app/probe.py", """
            import os

            def probe(n: int) -> dict:
                print(f"probing {n}")
                v2, v1 = "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"
                with open(v2 if os.path.exists(v2) else v1) as f:
                    return {"doubled": n * 2, "memory_limit": f.read().strip(), "level": os.environ["LEVEL"]}
            """);
        var environment = new TaskEnvironment("kube-py", Image.FromDebianBase("3.11").WithCodeBundle(), new Resources(Memory: "96Mi"),
            envVars: new Dictionary<string, string> { ["LEVEL"] = "debug" });
        var images = new BuildingImageSource(project.Config with { RootDir = project.SrcDir }, c => ImageBuildServices.CreateAsync(project.Config, cancellationToken: c));
        var image = await images.GetAsync(environment, ct);
        var bundle = await CodeBundler.CreateAsync(project.SrcDir, BundleOptions.For(project.Config), ct);
        var store = BlobStores.Open(project.Config.EffectiveStoreUri, project.Config);
        string storeUri;
        await using (store)
        {
            storeUri = await store.PutAsync(bundle.Digest, bundle.ArchivePath, ct);
        }

        var source = ContainerBundleSource.For(storeUri, null, bundle.Digest, project.Config.EffectiveStoreUri, project.Config.InsecureRegistries);
        var pod = KubernetesPodSpec.Build(KubernetesPodSpec.PodName("kube-play-py", 1, Guid.NewGuid().ToString("N")[..6]), "default", image, environment.Resources,
            RunnerCommand.For(image, source, bundle.Digest, ["--task", "app.probe:probe", "--inputs-env", KubernetesPodSpec.InputsVariable, "--result-stdout"]),
            """{"n": 21}""", "kube-play-py", "a0probe", "app.probe:probe", environment.Name, environment.EnvVars, environment.Secrets);

        var (exitCode, log, yaml) = await KubePlay.RunAsync(pod, Path.Combine(project.Root, "pods"));

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{log}\n{yaml}");
        var podLog = new PodLog(null);
        foreach (var line in log.Split('\n'))
        {
            podLog.Add(line);
        }

        using var reply = JsonDocument.Parse(podLog.ResultJson!);
        using var output = JsonDocument.Parse(RunnerProtocol.ParseCall(reply.RootElement, exitCode, "pod").OutputJson!);
        Assert.Equal(42, output.RootElement.GetProperty("doubled").GetInt32());
        Assert.Equal("debug", output.RootElement.GetProperty("level").GetString());
        Assert.Equal((96L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), output.RootElement.GetProperty("memory_limit").GetString());
    }
}
