using System.Text.Json;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Processes;

namespace FlyteSharp.IntegrationTests.Deploy;

public class DeployCommandTests(PodmanCliProject project, BaseImage baseImage) : IClassFixture<PodmanCliProject>
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task Deploy_ThenRunVersion_RunsCodeFromImageWithoutBundle()
    {
        var blobsBefore = Blobs();
        var (code, output, error) = await PodmanCliProject.RunAsync("deploy", project.Root, "--no-build", "--version", "1.0.0", "--copy-style", "none", "--env", "etl", "--json");
        Assert.True(code == 0, output + error);
        var deployed = Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray());
        Assert.Equal("etl", deployed.GetProperty("environment").GetString());

        // Change the code on disk: a deployed version must keep running what was baked in.
        await File.WriteAllTextAsync(Path.Combine(project.Root, "src", "app", "ops.py"), "def square(x: int) -> int:\n    return -1\n", TestContext.Current.CancellationToken);
        try
        {
            var (runCode, runOut, runErr) = await PodmanCliProject.RunAsync("run", project.Root, "sum_of_squares", "--no-build", "--version", "1.0.0", "--input", "n=3", "--json");
            var (listCode, listOut, _) = await PodmanCliProject.RunAsync("deploy", project.Root, "--list", "--version", "1.0.0");

            Assert.True(runCode == 0, runOut + runErr);
            var run = JsonDocument.Parse(runOut).RootElement;
            Assert.Equal(14, run.GetProperty("outputs").GetInt32()); // 1 + 4 + 9 from the deployed square
            Assert.Equal(JsonValueKind.Null, run.GetProperty("bundleDigest").ValueKind);
            Assert.Equal(blobsBefore, Blobs()); // neither the deploy nor the deployed run uploaded a bundle
            Assert.Equal(0, listCode);
            Assert.Contains("1.0.0  etl  " + deployed.GetProperty("image").GetString(), listOut);
        }
        finally
        {
            await File.WriteAllTextAsync(Path.Combine(project.Root, "src", "app", "ops.py"), "def square(x: int) -> int:\n    return x * x\n", TestContext.Current.CancellationToken);
        }
    }

    private string[] Blobs()
    {
        var dir = Path.Combine(project.Home, "store", "blobs");
        return Directory.Exists(dir) ? [.. Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)] : [];
    }

    [Fact]
    public async Task Deploy_FreshCliProcess_RecordsEveryTaskOfTheEnvironment()
    {
        // A process of its own: in this test process another test may already have registered the tasks (run finds them).
        var (code, output, error) = await ChildProcess.RunAsync(
            "dotnet", [Path.Combine(AppContext.BaseDirectory, "FlyteSharp.Cli.dll"), "deploy", project.Root, "--no-build", "--version", "2.0.0", "--env", "etl"],
            environment: new Dictionary<string, string?> { ["FLYTESHARP_CONFIG"] = null, ["FLYTESHARP_HOME"] = null },
            timeout: TimeSpan.FromMinutes(10), cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(code == 0, output + error);
        Assert.Contains("(2 task(s): app.ops:square, sum_of_squares)", output);
        // Piped: the image's build (or the registry's copy of it) as plain lines, without escape codes.
        Assert.DoesNotContain('\u001b', output + error);
        Assert.Matches($@"(?m)^image     \S+/{project.Repository}:[0-9a-f]{{32}} (built in \d|skipped: registry \S+ has tag [0-9a-f]{{32}}$)", output);
        var (listCode, listOut, _) = await PodmanCliProject.RunAsync("deploy", project.Root, "--list", "--version", "2.0.0", "--json");
        Assert.Equal(0, listCode);
        var tasks = Assert.Single(JsonDocument.Parse(listOut).RootElement.EnumerateArray()).GetProperty("tasks").EnumerateArray()
            .Select(t => (t.GetProperty("name").GetString(), t.GetProperty("kind").GetString())).ToList();
        Assert.Equal([("app.ops:square", "python"), ("sum_of_squares", "csharp")], tasks);
    }

    [Fact]
    public async Task Deploy_WithoutVersion_FailsWithHint()
    {
        var (code, _, error) = await PodmanCliProject.RunAsync("deploy", project.Root, "--no-build");

        Assert.Equal(1, code);
        Assert.Contains("deploy needs --version", error);
        Assert.Contains("--version git", error);
    }

    [Fact]
    public async Task Run_ModeContainer_RunsPythonChildInContainer()
    {
        var (code, output, error) = await PodmanCliProject.RunAsync("run", project.Root, "sum_of_squares", "--no-build", "--mode", "container", "--input", "n=4", "--json");

        Assert.True(code == 0, output + error);
        var run = JsonDocument.Parse(output).RootElement;
        Assert.Equal(30, run.GetProperty("outputs").GetInt32());
        Assert.StartsWith("sha256:", run.GetProperty("bundleDigest").GetString());
    }
}
