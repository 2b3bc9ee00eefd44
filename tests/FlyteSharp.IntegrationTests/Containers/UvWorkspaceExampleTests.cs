using System.Text.Json;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>
/// examples/uv-workspace in containers, with root_dir at the workspace root. uv cannot run on this machine, so the
/// environment's image has no WithUvProject layer (the example's Python code needs only the standard library); the
/// workspace's packages (root package shop, src-layout member pricing, flat member reports) come from the bundle.
/// </summary>
public class UvWorkspaceExampleTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    private static string WorkspaceRoot => Path.Combine(BaseImage.RepositoryRoot, "examples", "uv-workspace");

    [Fact]
    public async Task Run_MemberTaskCallingAnotherMember_RunsInContainersFromTheBundle()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var (pipeline, _) = Tasks(new TaskEnvironment("uvws", Image.FromDebianBase(BaseImage.PythonVersion).WithCodeBundle(), new Resources(Cpu: "1", Memory: "256Mi")));

        var run = await Flyte.Run(pipeline, 6, new RunOptions { Config = project.Config, RootDir = WorkspaceRoot, Mode = ExecutionMode.Container, CancellationToken = ct });
        var report = await run.GetOutputAsync(ct);

        Assert.Equal(155.2, ((JsonElement)report["revenue"]).GetDouble());
        Assert.Equal(62.4, ((JsonElement)report["per_customer"]).GetProperty("linus").GetDouble());
        // The output is handed back before container removal (teardown is off the critical path); the run's end awaits it.
        Assert.Equal(RunStatus.Succeeded, await run.WaitAsync(ct));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Deploy_FullBuild_RunsMemberTasksFromTheCodeBakedIn()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var (pipeline, env) = Tasks(new TaskEnvironment("uvws", Image.FromDebianBase(BaseImage.PythonVersion).WithCodeBundle(), new Resources(Cpu: "1", Memory: "256Mi")));

        var deployment = await Flyte.Deploy(env, CopyStyle.None, "1.0.0", new FlyteSharp.Deploy.DeployOptions { Config = project.Config, RootDir = WorkspaceRoot, CancellationToken = ct });
        var run = await Flyte.Run(pipeline, 6, new RunOptions { Config = project.Config, Version = "1.0.0", CancellationToken = ct });

        Assert.Contains("--path src --path packages/pricing/src --path packages/reports", deployment.Entry);
        Assert.Equal(155.2, ((JsonElement)(await run.GetOutputAsync(ct))["revenue"]).GetDouble());
    }

    [Fact]
    public async Task Deploy_OneTaskFailsItsCheck_RefusesTheWholeVersion()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var (_, env) = Tasks(new TaskEnvironment("uvws", Image.FromDebianBase(BaseImage.PythonVersion).WithCodeBundle(), new Resources(Cpu: "1", Memory: "256Mi")));
        _ = env.PythonTask<int, int>("reports.summary:yearly_report");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            Flyte.Deploy(env, CopyStyle.None, "2.0.0", new FlyteSharp.Deploy.DeployOptions { Config = project.Config, RootDir = WorkspaceRoot, CancellationToken = ct }));

        Assert.Contains("defines no 'yearly_report'", ex.Message);
        Assert.Empty(Flyte.Deployments("2.0.0", project.Config));
    }

    private static (FlyteTask<int, Dictionary<string, object>> Pipeline, TaskEnvironment Env) Tasks(TaskEnvironment env)
    {
        var sample = env.PythonTask<int, List<Dictionary<string, object>>>("shop.orders:sample_orders");
        var report = env.PythonTask<List<Dictionary<string, object>>, Dictionary<string, object>>("reports.summary:monthly_report");
        return (env.Task("report_pipeline", async (int n) => await report.InvokeAsync(await sample.InvokeAsync(n))), env);
    }
}
