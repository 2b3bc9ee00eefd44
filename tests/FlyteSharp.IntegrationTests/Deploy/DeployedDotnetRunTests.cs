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
