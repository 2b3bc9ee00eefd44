using System.Text.RegularExpressions;
using FlyteSharp.IntegrationTests.Infrastructure;

namespace FlyteSharp.IntegrationTests.Runs;

public class ExampleProgramTests(RunsProjectFixture fixture) : IClassFixture<RunsProjectFixture>
{
    [Fact]
    public async Task WorkspaceMonorepoProgram_Run_PrintsTwoImagesBundleTwoRunUrlsAndNormalizedOutput()
    {
        var (code, stdout, stderr) = await ChildProcess.RunAsync("dotnet",
            ["run", "--project", Path.Combine(fixture.RepoRoot, "examples", "workspace-monorepo", "dotnet"), "-v", "q"],
            new Dictionary<string, string?> { ["FLYTESHARP_HOME"] = Path.Combine(fixture.Temp, "example-home") },
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(code == 0, stdout + stderr);
        var etlImage = Regex.Match(stdout, @"^etl image: (\S+:[0-9a-f]{32})$", RegexOptions.Multiline);
        var mlImage = Regex.Match(stdout, @"^ml image: (\S+:[0-9a-f]{32})$", RegexOptions.Multiline);
        Assert.True(etlImage.Success && mlImage.Success, stdout);
        Assert.NotEqual(etlImage.Groups[1].Value, mlImage.Groups[1].Value);
        Assert.Matches(@"(?m)^code bundle: sha256:[0-9a-f]{64}$", stdout);
        Assert.Matches(@"(?m)^ETL run: http://localhost:\d+/runs/etl-pipeline-\S+$", stdout);
        Assert.Matches(@"(?m)^ML run: http://localhost:\d+/runs/ml-pipeline-\S+$", stdout);
        Assert.Contains("ETL output: [0,0.1111111111111111,0.2222222222222222,0.3333333333333333,0.4444444444444444,0.5555555555555556,0.6666666666666666,0.7777777777777778,0.8888888888888888,1]", stdout);
        Assert.Contains("ML output: 2", stdout);
    }
}
