using System.Text.Json;

namespace FlyteSharp.IntegrationTests.Runs;

public class RunCommandTests(RunsProjectFixture fixture) : IClassFixture<RunsProjectFixture>
{
    [Fact]
    public async Task Run_FanOutTask_PrintsNameUrlAndOutputs_AndRunsCommandsShowIt()
    {
        var (code, output, error) = await fixture.CliAsync("run", fixture.ProjectDir, "fan_out", "--no-build", "--config", fixture.ConfigFile, "--input", "n=20");

        Assert.True(code == 0, error);
        var name = output.Split('\n').Single(l => l.StartsWith("run:", StringComparison.Ordinal))["run:".Length..].Trim();
        Assert.Contains($"url:    http://localhost:{fixture.ConsolePort}/runs/{name}", output);
        Assert.Contains($"outputs: {Enumerable.Range(0, 20).Sum(i => i * i)}", output);

        var list = await fixture.CliAsync("runs", "list", "--config", fixture.ConfigFile, "--json");
        Assert.Equal(0, list.Code);
        Assert.Contains(JsonDocument.Parse(list.Out).RootElement.EnumerateArray(), r => r.GetProperty("name").GetString() == name && r.GetProperty("status").GetString() == "succeeded");

        var show = await fixture.CliAsync("runs", "show", name, "--config", fixture.ConfigFile);
        Assert.Equal(0, show.Code);
        Assert.Contains("actions (21):", show.Out);
        Assert.Contains("├─ square", show.Out);
        Assert.Contains("└─ square", show.Out);
    }

    [Fact]
    public async Task Run_JsonAndLogs_PythonChildOutputCaptured()
    {
        var (code, output, error) = await fixture.CliAsync("run", fixture.ProjectDir, "slow_pipeline", "--no-build", "--config", fixture.ConfigFile, "--input", "seconds=0", "--json");

        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal("succeeded", json.GetProperty("status").GetString());
        Assert.Equal(0.0, json.GetProperty("outputs").GetDouble());
        Assert.StartsWith("sha256:", json.GetProperty("bundleDigest").GetString());
        var name = json.GetProperty("run").GetString()!;

        var logs = await fixture.CliAsync("runs", "logs", name, "--config", fixture.ConfigFile);
        Assert.Contains("[slow_pipeline ", logs.Out);
        Assert.Contains("quick children done: 5", logs.Out);
        Assert.Contains("[fixture.slow:nap ", logs.Out);
        Assert.Contains("napping 0", logs.Out);
    }

    [Fact]
    public async Task RunsShow_UnknownRun_FailsWithFix()
    {
        // The database must exist: a missing one is its own error ("there is no run database at …").
        File.Open(fixture.Database, FileMode.OpenOrCreate).Dispose();
        var (code, _, error) = await fixture.CliAsync("runs", "show", "no-such-run", "--config", fixture.ConfigFile);

        Assert.Equal(1, code);
        Assert.Contains("there is no run named 'no-such-run'", error);
        Assert.Contains("flytesharp runs list", error);
    }

    [Fact]
    public async Task Run_TaskErrorWithTerminalEscapes_RunAndShowPrintThemAsQuestionMarks()
    {
        var name = "shout-" + Guid.NewGuid().ToString("n")[..8];
        var (code, _, error) = await fixture.CliAsync("run", fixture.ProjectDir, "fixture.late:shout", "--no-build", "--config", fixture.ConfigFile, "--input", "n=7", "--name", name);
        var (showCode, shown, _) = await fixture.CliAsync("runs", "show", name, "--config", fixture.ConfigFile);

        Assert.Equal(1, code);
        Assert.Contains("ValueError: bad 7?]52;c;aGk=??[2Jinput", error);
        Assert.DoesNotContain(error, c => char.IsControl(c) && c is not '\n' and not '\r' and not '\t');
        Assert.Equal(0, showCode);
        Assert.Contains("ValueError: bad 7?]52;c;aGk=??[2Jinput", shown);
        Assert.DoesNotContain(shown, c => char.IsControl(c) && c is not '\n' and not '\r' and not '\t');
    }

    [Fact]
    public async Task Run_UnknownTask_ListsTasks()
    {
        var (code, _, error) = await fixture.CliAsync("run", fixture.ProjectDir, "fan_outt", "--no-build", "--config", fixture.ConfigFile);

        Assert.Equal(1, code);
        Assert.Contains("defines no task named 'fan_outt'", error);
        Assert.Contains("fan_out, fixture.late:greet, fixture.late:shout, fixture.slow:nap, fixture.slow:warm_nap, nap_then_greet, slow_pipeline, square", error);
    }

    [Fact]
    public async Task Run_MissingInput_NamesParameterAndType()
    {
        var (code, _, error) = await fixture.CliAsync("run", fixture.ProjectDir, "square", "--no-build", "--config", fixture.ConfigFile);

        Assert.Equal(1, code);
        Assert.Contains("input 'x' (int) of task 'square' is missing", error);
    }

    [Fact]
    public async Task Run_ThreeProcessesAtOnce_AllRunsRecordedCompletely()
    {
        var processes = Enumerable.Range(0, 3)
            .Select(_ => fixture.StartCli("run", fixture.ProjectDir, "fan_out", "--no-build", "--config", fixture.ConfigFile, "--input", "n=200", "--json"))
            .ToArray();
        var names = new List<string>();
        foreach (var p in processes)
        {
            var stdout = await p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = await p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await p.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(p.ExitCode == 0, stderr);
            names.Add(JsonDocument.Parse(stdout).RootElement.GetProperty("run").GetString()!);
            p.Dispose();
        }

        var store = FlyteSharp.Runs.RunStore.Open(fixture.Database);
        Assert.Equal(3, names.Distinct().Count());
        foreach (var name in names)
        {
            Assert.Equal(FlyteSharp.Runs.RunStatus.Succeeded, store.GetRun(name)!.Status);
            Assert.Equal(201, store.GetActions(name).Count(a => a.Status == FlyteSharp.Runs.ActionStatus.Succeeded));
        }
    }
}
