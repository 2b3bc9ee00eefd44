using System.Text.Json;
using FlyteSharp.Execution;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;

namespace FlyteSharp.IntegrationTests.Dotnet;

/// <summary>
/// C# tasks whose environment has a .NET image run in containers of that image (real podman, real registry, the local
/// .NET base): resources applied, the code as the run's .NET bundle, a .cs edit runs new code in the same image.
/// </summary>
public class ContainerDotnetExecutorTests(DistributionRegistry registry)
{
    private const string TasksV1 = """
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace DotnetTasksApp;

        public record Probe(int Version, bool InContainer, string MemoryLimit, string Greeting, int Doubled);

        public static class Tasks
        {
            public static readonly TaskEnvironment Worker = new("dotnet-worker", Image.FromDotnetBase("10.0"), new Resources(Cpu: "1", Memory: "256Mi"),
                envVars: new Dictionary<string, string> { ["GREETING"] = "hello from the environment" });

            public static readonly FlyteTask<int, Probe> Probe = Worker.Task("probe", async (int n) =>
            {
                await Task.Yield();
                Console.WriteLine($"probing {n}");
                var limit = File.Exists("/sys/fs/cgroup/memory.max") ? File.ReadAllText("/sys/fs/cgroup/memory.max").Trim()
                    : File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") ? File.ReadAllText("/sys/fs/cgroup/memory/memory.limit_in_bytes").Trim() : "none";
                return new Probe(1, File.Exists("/run/.containerenv"), limit, Environment.GetEnvironmentVariable("GREETING") ?? "", n * 2);
            });
        }
        """;

    [Fact]
    public async Task Run_CSharpTaskOfDotnetImage_RunsInContainerWithResources_EditRunsNewCodeInSameImageWithoutBuild()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var project = new DotnetTaskProject(registry);
        project.WriteTasks(TasksV1);
        var options = new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct };

        var first = await project.RunAsync((await project.BuildAndLoadAsync()).FindTask("probe"), new Dictionary<string, string> { ["n"] = "21" }, options);
        Assert.Equal(RunStatus.Succeeded, await first.WaitAsync(ct));
        var buildsAfterFirst = project.BuildLogs();

        project.WriteTasks(TasksV1.Replace("new Probe(1,", "new Probe(2,", StringComparison.Ordinal));
        var second = await project.RunAsync((await project.BuildAndLoadAsync()).FindTask("probe"), new Dictionary<string, string> { ["n"] = "5" }, options);
        Assert.Equal(RunStatus.Succeeded, await second.WaitAsync(ct));

        using var firstOutput = JsonDocument.Parse((await first.GetRecordAsync(ct)).OutputsJson!);
        using var secondOutput = JsonDocument.Parse((await second.GetRecordAsync(ct)).OutputsJson!);
        Assert.Equal(1, firstOutput.RootElement.GetProperty("version").GetInt32());
        Assert.True(firstOutput.RootElement.GetProperty("in_container").GetBoolean(), "the C# task did not run in a container");
        Assert.Equal((256L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), firstOutput.RootElement.GetProperty("memory_limit").GetString());
        Assert.Equal("hello from the environment", firstOutput.RootElement.GetProperty("greeting").GetString());
        Assert.Equal(42, firstOutput.RootElement.GetProperty("doubled").GetInt32());
        Assert.Equal(2, secondOutput.RootElement.GetProperty("version").GetInt32()); // the edit ran ...
        Assert.Equal(10, secondOutput.RootElement.GetProperty("doubled").GetInt32());
        Assert.Equal(buildsAfterFirst, project.BuildLogs()); // ... in the same image: no build

        var firstAction = Assert.Single(await first.GetActionsAsync(ct));
        var secondAction = Assert.Single(await second.GetActionsAsync(ct));
        Assert.StartsWith($"{registry.Host}/{DotnetTaskProject.SharedRepository}:", firstAction.Image);
        Assert.Equal(firstAction.Image, secondAction.Image); // same image tag
        Assert.Contains("container flytesharp-", firstAction.Host, StringComparison.Ordinal);
        Assert.Contains(await first.GetLogsAsync(cancellationToken: ct), l => l.Text == "probing 21");
        await first.WaitAsync(ct);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + first.Name));
    }
}
