using System.Text.RegularExpressions;
using FlyteSharp.IntegrationTests.Infrastructure;

namespace FlyteSharp.IntegrationTests.Dotnet;

/// <summary>
/// examples/dotnet-tasks as its users run it (<c>dotnet run … -- --mode container</c>, what scripts/example-dotnet.sh
/// does), with [images] pointed at the test registry and the local bases: the C# parent and its fanned-out C# children
/// in containers of the .NET image with Newtonsoft.Json, the Python child in the Python image. One run, to keep CI lean.
/// </summary>
public class DotnetTasksExampleTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task ExampleProgram_ContainerMode_PricesBatchesInDotnetContainersAndSummarizesInPython()
    {
        var ct = TestContext.Current.CancellationToken;
        await DotnetBaseImage.EnsureAsync();
        using var temp = new PodmanProject(registry);
        var example = Path.Combine(BaseImage.RepositoryRoot, "examples", "dotnet-tasks");
        var config = Path.Combine(temp.Root, "flytesharp.toml");
        await File.WriteAllTextAsync(config, $"""
            root_dir = "{Path.Combine(example, "python")}"
            home = "{Path.Combine(temp.Root, "home")}"

            [images]
            registry = "{registry.Host}"
            name = "{temp.Repository}"
            python_base = "{BaseImage.Reference}"
            dotnet_base = "{DotnetBaseImage.Reference}"
            builder = "podman"
            insecure_registries = ["{registry.Host}"]
            """, ct);

        var (code, stdout, stderr) = await ChildProcess.RunAsync("dotnet",
            ["run", "--project", Path.Combine(example, "dotnet"), "-v", "q", "--", "--mode", "container"],
            new Dictionary<string, string?> { ["FLYTESHARP_CONFIG"] = config },
            cancellationToken: ct);

        Assert.True(code == 0, stdout + stderr);
        Assert.Matches(@"(?m)^run: http://localhost:\d+/runs/order-pipeline-\S+$", stdout);
        Assert.Contains("output: {\"Lines\":10,\"Totals\":[2.5,15,45,100],\"Summary\":{\"Count\":4,\"Sum\":162.5,\"Mean\":40.62,\"Median\":30,\"Stdev\":37.6}}", stdout);
        // The placement the run store recorded for each action (the program prints ActionRecord.Host).
        var actions = Regex.Matches(stdout, @"(?m)^action (?<task>\S+) \[(?<env>[^\]]+)\]: (?<host>.+)$").Select(m => (Task: m.Groups["task"].Value, Env: m.Groups["env"].Value, Host: m.Groups["host"].Value)).ToList();
        Assert.Equal(6, actions.Count);
        var dotnet = actions.Where(a => a.Env == "pricing").ToList();
        Assert.Equal(["order_pipeline", "price_batch", "price_batch", "price_batch", "price_batch"], dotnet.Select(a => a.Task).Order(StringComparer.Ordinal));
        Assert.All(dotnet, a => Assert.Matches(@"^podman container flytesharp-order-pipeline-\S+-dotnet-\d+-[0-9a-f]+ ", a.Host));
        var python = Assert.Single(actions, a => a.Env == "analytics");
        Assert.Equal("analytics.stats:summarize", python.Task);
        Assert.StartsWith("podman container flytesharp-order-pipeline-", python.Host, StringComparison.Ordinal);
    }
}
