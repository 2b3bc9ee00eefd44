using FlyteSharp.Building;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

public class ContainerPythonExecutorTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    private const string EtlV1 = """
        import os
        import sys

        def load(n: int) -> list:
            return [float(i) for i in range(n)]

        def summarize(values: list) -> dict:
            print(f"summarizing {len(values)} values")
            return {"sum": sum(values), "version": 1, "in_container": os.path.exists("/run/.containerenv"), "prefix": sys.prefix}
        """;

    [Fact]
    public async Task Run_TwoTaskPipelineInContainers_FirstRunBuildsSecondRunAfterEditBuildsNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/etl.py", EtlV1);
        var env = new TaskEnvironment("etl", Image.FromDebianBase("3.11").WithCodeBundle(), new Resources(Cpu: "1", Memory: "256Mi"));
        var load = env.PythonTask<int, List<double>>("app.etl:load");
        var summarize = env.PythonTask<List<double>, Dictionary<string, object>>("app.etl:summarize");
        var pipeline = env.Task("pipeline", async (int n) => await summarize.InvokeAsync(await load.InvokeAsync(n)));
        var options = new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct };

        var first = await project.Runtime.Run(pipeline, 5, options);
        var firstOutput = await first.GetOutputAsync(ct);
        var buildsAfterFirst = project.BuildLogs();

        project.WritePython("app/etl.py", EtlV1.Replace("\"version\": 1", "\"version\": 2", StringComparison.Ordinal));
        var second = await project.Runtime.Run(pipeline, 5, options);
        var secondOutput = await second.GetOutputAsync(ct);

        Assert.Equal(10.0, ((System.Text.Json.JsonElement)firstOutput["sum"]).GetDouble());
        Assert.Equal(1, ((System.Text.Json.JsonElement)firstOutput["version"]).GetInt32());
        Assert.True(((System.Text.Json.JsonElement)firstOutput["in_container"]).GetBoolean(), "the Python child did not run in a container");
        Assert.Equal("/opt/venv", ((System.Text.Json.JsonElement)firstOutput["prefix"]).GetString());
        Assert.Single(buildsAfterFirst); // the first run built the image (one build log)
        Assert.Equal(2, ((System.Text.Json.JsonElement)secondOutput["version"]).GetInt32());
        Assert.Equal(buildsAfterFirst, project.BuildLogs()); // the second run built nothing
        Assert.NotEqual(first.BundleDigest, second.BundleDigest);
        var logs = await second.GetLogsAsync(cancellationToken: ct);
        Assert.Contains(logs, l => l.Text.Contains("summarizing 5 values", StringComparison.Ordinal));
        await first.WaitAsync(ct); // the output is back before the containers are removed; the run's end awaits the removal
        await second.WaitAsync(ct);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + first.Name));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + second.Name));
    }

    [Fact]
    public async Task Run_ImageInputEditedWhileTheRunGoes_EveryActionOfTheRunGetsTheRunsFirstImage_TheNextRunTheNewOne()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/data.py", "def marker(n: int) -> str:\n    return open('/opt/data/marker.txt').read().strip()\n");
        var data = Path.Combine(project.Root, "data");
        Directory.CreateDirectory(data);
        var marker = Path.Combine(data, "marker.txt");
        await File.WriteAllTextAsync(marker, "v1\n", ct);
        var env = new TaskEnvironment("data", Image.FromDebianBase("3.11").WithSourceFolder(data, "/opt/data").WithCodeBundle());
        var read = env.PythonTask<int, string>("app.data:marker");
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var before = await read.InvokeAsync(n);
            // An input of the image changes in the middle of the run (its tag would move).
            await File.WriteAllTextAsync(marker, "v2\n");
            return before + "," + await read.InvokeAsync(n + 1);
        });
        var options = new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct };

        var run = await project.Runtime.Run(pipeline, 1, options);

        Assert.Equal("v1,v1", await run.GetOutputAsync(ct));
        var children = (await run.GetActionsAsync(ct)).Where(a => a.Task == "app.data:marker").ToList();
        Assert.Equal(2, children.Count);
        Assert.Single(children.Select(a => a.Image).Distinct());
        Assert.Single(project.BuildLogs());
        await run.WaitAsync(ct);

        var next = await project.Runtime.Run(read, 1, options);
        Assert.Equal("v2", await next.GetOutputAsync(ct));
        Assert.Equal(2, project.BuildLogs().Count);
    }

    [Fact]
    public async Task Run_ContainerModeFreshImage_BuildStepsReachRunProgressThenSecondRunReportsSkipped()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/etl.py", EtlV1);
        var env = new TaskEnvironment("etl", Image.FromDebianBase("3.11").WithCodeBundle(), new Resources(Cpu: "1", Memory: "256Mi"));
        var load = env.PythonTask<int, List<double>>("app.etl:load");
        var progress = new RecordingBuildProgress();
        var options = new RunOptions { Mode = ExecutionMode.Container, BuildProgress = progress, CancellationToken = ct };

        var first = await project.Runtime.Run(load, 3, options);
        var firstStatus = await first.WaitAsync(ct);
        var firstUpdates = progress.Updates;
        progress.Clear();
        var second = await project.Runtime.Run(load, 3, options);
        var secondStatus = await second.WaitAsync(ct);

        Assert.Equal(RunStatus.Succeeded, firstStatus);
        var uri = Assert.Single(firstUpdates.Select(u => u.ImageUri).Distinct());
        Assert.StartsWith($"{registry.Host}/{project.Repository}:", uri);
        Assert.Equal(["etl"], firstUpdates[0].Environments);
        Assert.Equal(ImageBuildStage.Building, firstUpdates[0].Stage);
        Assert.Contains(firstUpdates, u => u.Stage == ImageBuildStage.Step && u.Step!.StartsWith("STEP 1/", StringComparison.Ordinal) && u.Step.Contains(": FROM ", StringComparison.Ordinal));
        Assert.Contains(firstUpdates, u => u.Stage == ImageBuildStage.Step && u.Step == "PUSH " + uri);
        Assert.Equal(ImageBuildStage.Built, firstUpdates[^1].Stage);
        Assert.Equal(RunStatus.Succeeded, secondStatus);
        var skipped = Assert.Single(progress.Updates);
        Assert.Equal((ImageBuildStage.SkippedExisting, uri, (string?)registry.Host), (skipped.Stage, skipped.ImageUri, skipped.Registry));
    }

    [Fact]
    public async Task Run_TaskModuleNeedsPackageOnlyInImage_SignatureCheckRunsInImage()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        // 'imageonly' exists only in the image (a WithCommands layer), so the local check cannot import the module.
        project.WritePython("app/uses.py", """
            import imageonly

            def answer() -> int:
                return imageonly.VALUE
            """);
        var image = Image.FromDebianBase("3.11")
            .WithCommands("mkdir -p /opt/extra && echo 'VALUE = 41' > /opt/extra/imageonly.py")
            .WithEnvVars(new Dictionary<string, string> { ["PYTHONPATH"] = "/root:/opt/extra" })
            .WithCodeBundle();
        var env = new TaskEnvironment("imgdeps", image);
        var answer = env.PythonTask<int>("app.uses:answer");

        var run = await project.Runtime.Run(answer, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.Equal(41, await run.GetOutputAsync(ct));
    }

    [Fact]
    public async Task Run_OciStore_ContainerDownloadsBundleFromRegistry()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.Config = project.Config with { StoreUri = $"oci://{registry.Host}/{project.Repository}-bundles" };
        project.WritePython("app/ops.py", "def triple(x: int) -> int:\n    return 3 * x\n");
        var env = new TaskEnvironment("oci", Image.FromDebianBase("3.11").WithCodeBundle());
        var triple = env.PythonTask<int, int>("app.ops:triple");

        var run = await project.Runtime.Run(triple, 5, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });

        Assert.Equal(15, await run.GetOutputAsync(ct));
        using var http = new HttpClient();
        using var head = new HttpRequestMessage(HttpMethod.Head, $"{registry.BaseUrl}/v2/{project.Repository}-bundles/blobs/{run.BundleDigest}");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.SendAsync(head, ct)).StatusCode);
    }

    [Fact]
    public async Task Run_ValuesAboveInlineLimitWithOciStore_ContainersGetAndReturnThemAsBlobs()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.Config = project.Config with { StoreUri = $"oci://{registry.Host}/{project.Repository}-values", InlineOutputLimit = 2048 };
        project.WritePython("app/etl.py", EtlV1);
        var env = new TaskEnvironment("values", Image.FromDebianBase("3.11").WithCodeBundle());
        var load = env.PythonTask<int, List<double>>("app.etl:load");
        var summarize = env.PythonTask<List<double>, Dictionary<string, object>>("app.etl:summarize");
        var pipeline = env.Task("pipeline", async (int n) => await summarize.InvokeAsync(await load.InvokeAsync(n)));

        var run = await project.Runtime.Run(pipeline, 2_000, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var output = await run.GetOutputAsync(ct);

        Assert.Equal(Enumerable.Range(0, 2_000).Sum(i => (double)i), ((System.Text.Json.JsonElement)output["sum"]).GetDouble());
        var actions = await run.GetActionsAsync(ct);
        var loaded = actions.Single(a => a.Task == "app.etl:load").OutputsBlob;
        var given = actions.Single(a => a.Task == "app.etl:summarize").InputsBlob;
        Assert.NotNull(loaded);
        Assert.NotNull(given);
        Assert.StartsWith($"oci://{registry.Host}/{project.Repository}-values@sha256:", loaded.Uri);
        using var http = new HttpClient();
        using var head = new HttpRequestMessage(HttpMethod.Head, $"{registry.BaseUrl}/v2/{project.Repository}-values/blobs/{loaded.Digest}");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.SendAsync(head, ct)).StatusCode);
        await using var blob = await OutputBlobs.OpenAsync(loaded, project.Config, ct);
        Assert.Equal(Enumerable.Range(0, 2_000).Select(i => (double)i), await System.Text.Json.JsonSerializer.DeserializeAsync<List<double>>(blob, cancellationToken: ct));
    }

}
