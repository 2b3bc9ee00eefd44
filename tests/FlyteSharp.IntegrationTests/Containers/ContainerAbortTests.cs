using FlyteSharp.Cli;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>`flytesharp runs abort` of a container-mode run with real podman: the container is stopped and removed, the run recorded cancelled.</summary>
public class ContainerAbortTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage; // the fixture builds the local base image the Debian base resolves to

    [Fact]
    public async Task Abort_ContainerRun_StopsTheContainerAndMarksTheRunCancelled()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/slow.py", "import time\n\ndef sleep(seconds: float) -> float:\n    time.sleep(seconds)\n    return seconds\n");
        var env = new TaskEnvironment("abort", Image.FromDebianBase("3.11").WithCodeBundle());
        var sleep = env.PythonTask<double, double>("app.slow:sleep");
        var run = await project.Runtime.Run(sleep, 300.0, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        while ((await Podman.RunAsync("ps", "--filter", $"label=flytesharp.run={run.Name}", "--format", "{{.ID}}")).Output.Trim().Length == 0)
        {
            Assert.Equal(RunStatus.Running, run.Status);
            await Task.Delay(200, ct);
        }

        var output = new StringWriter();
        var error = new StringWriter();
        var code = await FlyteCli.RunAsync(["runs", "abort", run.Name, "--db", project.Config.EffectiveRunDatabase], output, error, ct);

        Assert.True(code == 0, error.ToString());
        Assert.Contains($"run {run.Name} cancelled", output.ToString());
        Assert.Equal(RunStatus.Cancelled, await run.WaitAsync(ct));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
        var action = Assert.Single(await run.GetActionsAsync(ct));
        Assert.Equal(ActionStatus.Cancelled, action.Status);
        Assert.True(action.Duration < TimeSpan.FromSeconds(120), "the action ran on instead of being stopped");
    }
}
