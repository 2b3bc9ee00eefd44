using System.Text.Json;
using FlyteSharp.Execution;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;

namespace FlyteSharp.IntegrationTests.Deploy;

/// <summary>
/// Runs of deployed versions whose C# tasks are in a .NET environment (real podman, real registry, the local .NET base):
/// they run in a container of the deployed image with the code recorded at deploy time — the assemblies a full build
/// baked into <c>/opt/flytesharp/app</c>, or the .NET bundle stored by the deploy — never the project's current build,
/// and the run makes and stores no bundle.
/// </summary>
public class DeployedDotnetRunTests(DistributionRegistry registry)
{
    // {IMAGE} is the environment's image definition; {VERSION} the behaviour marker the test edits after the deploy.
    private const string Tasks = """
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace DotnetTasksApp;

        public record Probe(int Version, bool InContainer, string Host, string Code, int Doubled);

        public static class Tasks
        {
            public static readonly TaskEnvironment Worker = new("{ENV}", {IMAGE}, new Resources(Memory: "256Mi"));

            public static readonly FlyteTask<int, Probe> Probe = Worker.Task("probe", async (int n) =>
            {
                await Task.Yield();
                return new Probe({VERSION}, File.Exists("/run/.containerenv"), Environment.MachineName, typeof(Tasks).Assembly.Location, n * 2);
            });
        }
        """;

    private static string Code(string environment, string image, int version) =>
        Tasks.Replace("{ENV}", environment, StringComparison.Ordinal).Replace("{IMAGE}", image, StringComparison.Ordinal)
            .Replace("{VERSION}", version.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static List<string> StoreFiles(DotnetTaskProject project)
    {
        var store = new Uri(project.Config.EffectiveStoreUri).LocalPath;
        return Directory.Exists(store) ? [.. Directory.EnumerateFiles(store, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)] : [];
    }

    private static async Task<JsonElement> OutputAsync(Run run)
    {
        var ct = TestContext.Current.CancellationToken;
        var status = await run.WaitAsync(ct);
        var record = await run.GetRecordAsync(ct);
        Assert.True(status == RunStatus.Succeeded, $"{status}: {record.Error?.Type}: {record.Error?.Message}\n{record.Error?.Traceback}");
        using var output = JsonDocument.Parse(record.OutputsJson!);
        return output.RootElement.Clone();
    }

    [Fact]
    public async Task RunVersion_CopyStyleNoneDeployThenCsEdit_RunsTheBakedOldCodeInAContainerOfTheDeployedImage_NoBundle()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var csproj = Path.Combine(project.ProjectDirectory, "App.csproj");
        var image = $"Image.FromDotnetBase(\"10.0\").WithDotnetProject(@\"{csproj}\")";
        var v1 = await project.WriteTasks(Code("deployed-baked", image, 1)).BuildAndLoadAsync();
        using var runtime = project.Runtime;

        var deployment = await runtime.Deploy(v1.FindTask("probe").Environment, CopyStyle.None, "1.0.0", new FlyteSharp.Deploy.DeployOptions { CancellationToken = ct });
        var deployed = Assert.Single(deployment.Tasks);
        Assert.Equal(("DotnetTasksApp.dll", (string?)null), (deployed.Assembly, deployed.BundleDigest)); // baked: nothing uploaded

        // The edit after the deploy: a fresh run runs it, the version does not.
        var v2 = await project.WriteTasks(Code("deployed-baked", image, 2)).BuildAndLoadAsync();
        var storeBefore = StoreFiles(project);
        var versioned = await project.RunAsync(v2.FindTask("probe"), new Dictionary<string, string> { ["n"] = "21" }, new RunOptions { Version = "1.0.0", CancellationToken = ct });
        var output = await OutputAsync(versioned);

        Assert.Equal(1, output.GetProperty("version").GetInt32());
        Assert.Equal(42, output.GetProperty("doubled").GetInt32());
        Assert.True(output.GetProperty("in_container").GetBoolean(), "the deployed C# task ran in the driver");
        Assert.NotEqual(Environment.MachineName, output.GetProperty("host").GetString());
        Assert.Equal("/opt/flytesharp/app/DotnetTasksApp.dll", output.GetProperty("code").GetString());
        var action = Assert.Single(await versioned.GetActionsAsync(ct));
        Assert.Equal(deployment.ImageUri, action.Image);
        Assert.Contains($"container flytesharp-{versioned.Name}-dotnet-", action.Host, StringComparison.Ordinal);
        Assert.Null(versioned.BundleDigest);
        Assert.Equal(storeBefore, StoreFiles(project)); // no bundle made or stored
        var logs = await versioned.GetLogsAsync(cancellationToken: ct);
        Assert.Contains(logs, l => l.Stream == "flytesharp" && l.Text == "assemblies of version 1.0.0 baked into the image (/opt/flytesharp/app/DotnetTasksApp.dll)");
        Assert.DoesNotContain(logs, l => l.Text.StartsWith(".NET bundle", StringComparison.Ordinal));

        var fresh = await project.RunAsync(v2.FindTask("probe"), new Dictionary<string, string> { ["n"] = "1" }, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        Assert.Equal(2, (await OutputAsync(fresh)).GetProperty("version").GetInt32());
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + versioned.Name));
    }

    [Fact]
    public async Task Deploy_CopyStyleNoneAfterACsEdit_PutsTheNewAssembliesOnTopWithoutABuilder_TheFilesABuilderCopies_AndRunsThem()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        var csproj = Path.Combine(project.ProjectDirectory, "App.csproj");
        var image = $"Image.FromDotnetBase(\"10.0\").WithDotnetProject(@\"{csproj}\")";
        var v1 = await project.WriteTasks(Code("deployed-layer", image, 1)).BuildAndLoadAsync();
        using var runtime = project.Runtime;
        var first = await runtime.Deploy(v1.FindTask("probe").Environment, CopyStyle.None, "1.0.0", new FlyteSharp.Deploy.DeployOptions { CancellationToken = ct });

        var v2 = await project.WriteTasks(Code("deployed-layer", image, 2)).BuildAndLoadAsync();
        var builds = project.BuildLogs().Count;
        var progress = new RecordingBuildProgress();
        var second = await runtime.Deploy(v2.FindTask("probe").Environment, CopyStyle.None, "2.0.0",
            new FlyteSharp.Deploy.DeployOptions { BuildProgress = progress, CancellationToken = ct });

        // A .cs edit changed only the assemblies layer: no builder ran, the registry API put the new layer on the old base.
        Assert.Equal(builds, project.BuildLogs().Count);
        Assert.NotEqual(first.ImageUri, second.ImageUri);
        var made = Assert.Single(progress.Updates, u => u.Stage == FlyteSharp.Building.ImageBuildStage.Built);
        Assert.Equal(FlyteSharp.Deploy.Deployer.RegistryAssemblyStep, made.Step);

        // The assembled image holds exactly the files a builder would copy: those of the build context's generated folder.
        var resolved = v2.FindTask("probe").Environment.Image.Resolve(new FlyteSharp.Images.ImageResolveOptions(project.Config, CopyStyle.None));
        var context = Path.Combine(project.Root, "context");
        await resolved.WriteBuildContextAsync(context, ct);
        var generated = Path.Combine(context, ".flytesharp", "layers", "2-dotnet-app");
        var expected = string.Join('\n', Directory.EnumerateFiles(generated, "*", SearchOption.AllDirectories)
            .Select(f => $"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}  ./{Path.GetRelativePath(generated, f)} -rw-r--r--")
            .Order(StringComparer.Ordinal));
        Assert.Equal(0, (await Podman.RunAsync("pull", "--quiet", "--tls-verify=false", second.ImageUri)).ExitCode);
        var (code, listing) = await Podman.RunAsync("run", "--rm", "--entrypoint", "/bin/sh", second.ImageUri, "-c",
            "cd /opt/flytesharp/app && for f in $(find . -type f | sort); do echo \"$(sha256sum \"$f\") $(stat -c %A \"$f\")\"; done");
        Assert.Equal(0, code);
        Assert.Contains("DotnetTasksApp.dll", expected, StringComparison.Ordinal);
        var actual = string.Join('\n', listing.Trim().Split('\n').Order(StringComparer.Ordinal));
        Assert.True(expected == actual, $"build context:\n{expected}\nassembled image:\n{actual}");

        // Reproducible: assembled again from the same sources (a fresh publish), the manifest digest is the same.
        using (var http = new HttpClient())
        {
            using var head = new HttpRequestMessage(HttpMethod.Head, $"{registry.BaseUrl}/v2/{resolved.Repository}/manifests/{resolved.Tag}");
            head.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
            using var found = await http.SendAsync(head, ct);
            var digest = found.Headers.GetValues("Docker-Content-Digest").Single();
            using var deleted = await http.DeleteAsync($"{registry.BaseUrl}/v2/{resolved.Repository}/manifests/{digest}", ct);
            Assert.True(deleted.IsSuccessStatusCode, $"DELETE manifest: {deleted.StatusCode}");
            var options = new FlyteSharp.Images.ImageResolveOptions(project.Config, CopyStyle.None);
            var again = await FlyteSharp.Building.RegistryAssembly.TryPushAsync(v2.FindTask("probe").Environment.Image, resolved, options,
                new FlyteSharp.Building.RegistryAssemblyOptions(), null, ct);
            Assert.Equal(digest, again?.ManifestDigest);
        }

        // Each version runs its own code.
        foreach (var (version, marker) in new[] { ("2.0.0", 2), ("1.0.0", 1) })
        {
            var run = await project.RunAsync(v2.FindTask("probe"), new Dictionary<string, string> { ["n"] = "4" }, new RunOptions { Version = version, CancellationToken = ct });
            Assert.Equal(marker, (await OutputAsync(run)).GetProperty("version").GetInt32());
        }
    }

    [Fact]
    public async Task RunVersion_DeployWithoutDotnetProject_RunsTheBundleStoredAtDeployTime()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        const string image = "Image.FromDotnetBase(\"10.0\")";
        var v1 = await project.WriteTasks(Code("deployed-bundle", image, 1)).BuildAndLoadAsync();
        using var runtime = project.Runtime;

        var deployment = await runtime.Deploy(v1.FindTask("probe").Environment, CopyStyle.None, "b1", new FlyteSharp.Deploy.DeployOptions { CancellationToken = ct });
        var deployed = Assert.Single(deployment.Tasks);
        Assert.StartsWith("sha256:", deployed.BundleDigest, StringComparison.Ordinal);
        Assert.Contains(StoreFiles(project), f => f.EndsWith(deployed.BundleDigest!["sha256:".Length..], StringComparison.Ordinal));

        var v2 = await project.WriteTasks(Code("deployed-bundle", image, 2)).BuildAndLoadAsync();
        var storeBefore = StoreFiles(project);
        var versioned = await project.RunAsync(v2.FindTask("probe"), new Dictionary<string, string> { ["n"] = "5" }, new RunOptions { Version = "b1", CancellationToken = ct });
        var output = await OutputAsync(versioned);

        Assert.Equal(1, output.GetProperty("version").GetInt32());
        Assert.Equal(10, output.GetProperty("doubled").GetInt32());
        Assert.True(output.GetProperty("in_container").GetBoolean(), "the deployed C# task ran in the driver");
        Assert.StartsWith("/tmp/flytesharp/dotnet-bundle/", output.GetProperty("code").GetString(), StringComparison.Ordinal);
        Assert.Equal(deployment.ImageUri, Assert.Single(await versioned.GetActionsAsync(ct)).Image);
        Assert.Equal(storeBefore, StoreFiles(project)); // the stored bundle is used, no new one
        var logs = await versioned.GetLogsAsync(cancellationToken: ct);
        Assert.Contains(logs, l => l.Stream == "flytesharp" && l.Text == $".NET bundle {deployed.BundleDigest} of version b1 (DotnetTasksApp.dll)");

        // The same version with the edited code is another version: refused, the recorded bundle stays.
        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => runtime.Deploy(v2.FindTask("probe").Environment, CopyStyle.None, "b1", new FlyteSharp.Deploy.DeployOptions { CancellationToken = ct }));
        Assert.Contains($"already deployed with task 'probe' from .NET bundle {deployed.BundleDigest}", error.Message, StringComparison.Ordinal);
        Assert.Equal(deployed.BundleDigest, Assert.Single(runtime.Deployments("b1")[0].Tasks).BundleDigest);
    }
}
