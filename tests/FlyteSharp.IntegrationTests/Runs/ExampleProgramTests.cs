using System.Diagnostics;
using System.Text.RegularExpressions;

namespace FlyteSharp.IntegrationTests.Runs;

public class ExampleProgramTests(RunsProjectFixture fixture) : IClassFixture<RunsProjectFixture>
{
    [Fact]
    public async Task WorkspaceMonorepoProgram_Run_PrintsTwoImagesBundleTwoRunUrlsAndNormalizedOutput()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "run", "--project", Path.Combine(fixture.RepoRoot, "examples", "workspace-monorepo", "dotnet"), "-v", "q" })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["FLYTESHARP_HOME"] = Path.Combine(fixture.Temp, "example-home");
        using var process = Process.Start(start)!;
        var stdout = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(process.ExitCode == 0, stdout + stderr);
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
