using FlyteSharp.Building;
using FlyteSharp.Deploy;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Deploy;

/// <summary>
/// Check avoidance (<see cref="DeployCheckCache"/>): a deploy whose code differs from a checked one only inside function
/// bodies nothing run at import reaches uses the stored answers and starts no check container; every change import can
/// see runs the check's container again, which refuses what it must. Real python3, podman and registry.
/// </summary>
public class DeployCheckAvoidanceTests(DistributionRegistry registry, BaseImage baseImage)
{
    private const string Good = "def helper():\n    return 1\n\nX = helper()\n\ndef add(x: int) -> int:\n    return x + 1\n";
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task Deploy_BodyOnlyEditAfterACheckedDeploy_NoCheckContainerAndTheVersionRecorded()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync(Good, ct);
        var env = Environment(project, out var add);
        var first = await DeployObservedAsync(project, env, "1", ct);
        Assert.Empty(first.Avoided);
        Assert.True(first.StagedDescribe > TimeSpan.Zero);
        Assert.Single(Directory.GetFiles(Path.Combine(project.Config.Home, "deploy-checks"), "*.json"));

        project.WritePython("app/ops.py", Good.Replace("return x + 1", "y = x * 3\n    return y - 2 * x + 7", StringComparison.Ordinal));
        var second = await DeployObservedAsync(project, env, "2", ct);

        Assert.Equal([env.Name], second.Avoided);
        Assert.Equal(TimeSpan.Zero, second.StagedDescribe);
        Assert.Single(project.Runtime.Deployments("2"));
        Assert.Equal(["x"], add.Parameters!.Select(p => p.Name));
        Assert.Empty(await CheckContainersAsync(env));
    }

    [Theory]
    [InlineData("import missing_pkg\n" + Good, "missing_pkg")]
    [InlineData("def helper():\n    raise RuntimeError('helper broke')\n\nX = helper()\n\ndef add(x: int) -> int:\n    return x + 1\n", "helper broke")]
    [InlineData("def helper():\n    return 1\n\nX = helper()\n\ndef add(x: int, y: int) -> int:\n    return x + 1\n", "is declared with 1 input(s)")]
    [InlineData("def helper():\n    return 1\n\nX = helper()\n\ndef add(x: int) -> int:\n    return x +\n", "SyntaxError")]
    [InlineData("import os\nif open(os.path.join(os.path.dirname(__file__), 'data.txt')).read() != 'ok':\n    raise ValueError('bad data')\n\ndef add(x: int) -> int:\n    return x + 1\n", "bad data")]
    public async Task Deploy_EditImportCanSeeAfterACheckedDeploy_CheckContainerRunsAndRefuses(string edited, string reason)
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync(Good, ct);
        project.WritePython("app/data.txt", "ok");
        var env = Environment(project, out _);
        if (edited.Contains("data.txt", StringComparison.Ordinal))
        {
            // The data file changes, the module does not: its bytes are in the digest.
            project.WritePython("app/ops.py", edited);
            await DeployObservedAsync(project, env, "1", ct);
            project.WritePython("app/data.txt", "not ok");
        }
        else
        {
            await DeployObservedAsync(project, env, "1", ct);
            project.WritePython("app/ops.py", edited);
        }

        var timings = new List<DeployCheckTimings>();
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => ObserveAsync(env, timings, () => DeployAsync(project, env, "2", ct)));

        Assert.Contains(reason, ex.Message + ex.Fix);
        Assert.DoesNotContain(timings, t => t.Avoided.Contains(env.Name));
        Assert.Empty(project.Runtime.Deployments("2"));
        Assert.Empty(await CheckContainersAsync(env));
    }

    [Theory]
    [InlineData("def helper():\n    return 1\n\nX = helper()\n\ndef add(x: int = 5) -> int:\n    return x + 1\n")]
    [InlineData("import functools\n\ndef helper():\n    return 1\n\nX = helper()\n\n@functools.lru_cache\ndef add(x: int) -> int:\n    return x + 1\n")]
    public async Task Deploy_DefaultOrDecoratorChanged_CheckContainerRunsAgain(string edited)
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync(Good, ct);
        var env = Environment(project, out _);
        await DeployObservedAsync(project, env, "1", ct);
        project.WritePython("app/ops.py", edited);

        var second = await DeployObservedAsync(project, env, "2", ct);

        Assert.Empty(second.Avoided);
        Assert.True(second.StagedDescribe > TimeSpan.Zero);
        Assert.Single(project.Runtime.Deployments("2"));
    }

    [Fact]
    public async Task Deploy_CacheEntryIsGarbage_IgnoredTheCheckRunsAndTheEntryIsReplaced()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync(Good, ct);
        var env = Environment(project, out _);
        await DeployObservedAsync(project, env, "1", ct);
        var entry = Assert.Single(Directory.GetFiles(Path.Combine(project.Config.Home, "deploy-checks"), "*.json"));
        File.WriteAllText(entry, "{\"format\":1,\"key\":\"" + Path.GetFileNameWithoutExtension(entry) + "\",\"python\":\"3.11\",\"describe\":[{\"task\":");
        project.WritePython("app/ops.py", Good.Replace("x + 1", "x + 2", StringComparison.Ordinal));

        var second = await DeployObservedAsync(project, env, "2", ct);

        Assert.Empty(second.Avoided);
        Assert.True(second.StagedDescribe > TimeSpan.Zero);
        Assert.Single(project.Runtime.Deployments("2"));
        Assert.Contains("\"describe\":[{\"task\":\"app.ops:add\",\"ok\":true", File.ReadAllText(entry));
    }

    [Fact]
    public async Task Deploy_LocalBaseImageIdChanged_StoredAnswersNotUsed()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync(Good, ct);
        var env = Environment(project, out _);
        await DeployObservedAsync(project, env, "1", ct);
        // Another image under the base's tag locally (one more layer): its ID differs, so the stored answers are not its.
        var options = new ImageResolveOptions(project.Config with { RootDir = project.SrcDir }, CopyStyle.None);
        var full = env.Image.Resolve(options);
        var @base = RegistryAssembly.BaseOf(env.Image, full, options, RegistryAssembly.Split(full)!.Value)!;
        var context = Path.Combine(project.Root, "other-base");
        Directory.CreateDirectory(context);
        File.WriteAllText(Path.Combine(context, "Dockerfile"), $"FROM {@base.Uri}\nRUN echo other > /etc/other-base\n");
        var (code, output) = await Podman.RunAsync("build", "--tag", @base.Uri, context);
        Assert.True(code == 0, output);
        project.WritePython("app/ops.py", Good.Replace("x + 1", "x + 2", StringComparison.Ordinal));

        var timings = new List<DeployCheckTimings>();
        await ObserveAsync(env, timings, () => DeployAsync(project, env, "2", ct));

        Assert.DoesNotContain(timings, t => t.Avoided.Contains(env.Name));
        Assert.Single(project.Runtime.Deployments("2"));
    }

    private static TaskEnvironment Environment(PodmanProject project, out FlyteTask<int, int> add)
    {
        var env = new TaskEnvironment("avoid-" + project.Repository[^10..], Image.FromDebianBase(BaseImage.PythonVersion).WithCodeBundle(), new Resources(Memory: "256Mi"));
        add = env.PythonTask<int, int>("app.ops:add");
        return env;
    }

    private static async Task DeployAsync(PodmanProject project, TaskEnvironment env, string version, CancellationToken ct) =>
        Assert.Single(await Deployer.DeployAsync([env], CopyStyle.None, version, project.Config with { RootDir = project.SrcDir }, cancellationToken: ct));

    /// <summary>Deploys and returns this environment's check timings (other tests' deploys report through the same event).</summary>
    private static async Task<DeployCheckTimings> DeployObservedAsync(PodmanProject project, TaskEnvironment env, string version, CancellationToken ct)
    {
        var timings = new List<DeployCheckTimings>();
        await ObserveAsync(env, timings, () => DeployAsync(project, env, version, ct));
        return Assert.Single(timings);
    }

    /// <summary>Runs <paramref name="deploy"/>, collecting the timings of checks that staged or avoided <paramref name="env"/>.</summary>
    private static async Task ObserveAsync(TaskEnvironment env, List<DeployCheckTimings> timings, Func<Task> deploy)
    {
        var mine = new List<DeployCheckTimings>();
        void Record(DeployCheckTimings t)
        {
            lock (mine)
            {
                mine.Add(t);
            }
        }

        DeployCheck.Timed += Record;
        try
        {
            await deploy();
        }
        finally
        {
            DeployCheck.Timed -= Record;
            lock (mine)
            {
                timings.AddRange(mine.Where(t => t.Environments.Contains(env.Name)));
            }
        }
    }

    /// <summary>A project whose dependency image (the deploy's base) is built and pushed, with <c>app/ops.py</c> written.</summary>
    private async Task<PodmanProject> NewProjectAsync(string ops, CancellationToken ct)
    {
        var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", ops);
        var image = Image.FromDebianBase(BaseImage.PythonVersion).WithCodeBundle();
        var dependency = image.Resolve(new ImageResolveOptions(project.Config with { RootDir = project.SrcDir }, CopyStyle.All));
        var service = await ImageBuildServices.CreateAsync(project.Config, cancellationToken: ct);
        await service.EnsureAsync([ImageBuildTarget.From(dependency, "check")], cancellationToken: ct);
        return project;
    }

    private static async Task<string> CheckContainersAsync(TaskEnvironment env)
    {
        var (_, output) = await Podman.RunAsync("ps", "--all", "--filter", "label=flytesharp.environment=" + env.Name, "--format", "{{.Names}}");
        return output.Trim();
    }
}
