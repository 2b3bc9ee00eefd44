using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Deploy;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Deploy;

/// <summary>
/// The deploy's check of its Python tasks, which runs on the image's local base with the code unpacked over it while the
/// image is made (<see cref="DeployCheck"/>): it must refuse exactly what a check in the deployed image refuses, through
/// the registry assembly and through podman build alike, leave nothing of the host writable or reachable, and count only
/// when the image was made on that very base.
/// </summary>
public class DeployCheckTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Deploy_TaskImportsPackageTheImageLacks_RefusedAndNothingRecorded(bool registryAssembly)
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync("import yaml_that_is_not_installed\n\ndef add(x: int) -> int:\n    return x + 1\n", ct);
        var env = Environment(project, out _);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => DeployAsync(project, env, registryAssembly, ct));

        Assert.Contains("yaml_that_is_not_installed", ex.Message);
        Assert.Contains("app.ops:add", ex.Message);
        Assert.Empty(project.Runtime.Deployments("1"));
        Assert.Empty(await CheckContainersAsync(env));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Deploy_SignatureDoesNotMatchTheDeclaration_RefusedAndNothingRecorded(bool registryAssembly)
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync("def add(x: int, y: int) -> int:\n    return x + y\n", ct);
        var env = Environment(project, out _);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => DeployAsync(project, env, registryAssembly, ct));

        Assert.Contains("takes (x: int, y: int) but is declared with 1 input(s)", ex.Message);
        Assert.Empty(project.Runtime.Deployments("1"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Deploy_GoodTasks_CheckedOnTheLocalBaseWithoutPullingTheDeployedImageAndParametersLearned(bool registryAssembly)
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync("def add(x: int) -> int:\n    return x + 1\n", ct);
        var env = Environment(project, out var add);
        var timings = new List<DeployCheckTimings>();
        void Record(DeployCheckTimings t)
        {
            lock (timings)
            {
                timings.Add(t);
            }
        }

        DeployCheck.Timed += Record;
        Deployment deployment;
        try
        {
            deployment = await DeployAsync(project, env, registryAssembly, ct);
        }
        finally
        {
            DeployCheck.Timed -= Record;
        }

        Assert.Equal(["x"], add.Parameters!.Select(p => p.Name));
        Assert.Single(project.Runtime.Deployments("1"));
        lock (timings)
        {
            // Other tests' deploys may report at the same time: at least one check of this process used its staged answers.
            Assert.Contains(timings, t => t.Staged == 1 && t.StagedDescribe > TimeSpan.Zero);
        }

        if (registryAssembly)
        {
            // The check never needed the assembled image: it is in the registry only.
            Assert.False(await Podman.ImageExistsAsync(deployment.ImageUri), "the deploy check pulled the deployed image");
        }

        Assert.Empty(await CheckContainersAsync(env));
    }

    [Fact]
    public async Task Deploy_ModuleWritesIntoItsCodeFolderDuringTheCheck_HostUntouchedAndImageStillClean()
    {
        var ct = TestContext.Current.CancellationToken;
        // The code folder is writable in the deployed image, so it is in the check's container too; the host's files are
        // never mounted there, so nothing reaches them.
        using var project = await NewProjectAsync("""
            import os
            with open(os.path.join(os.path.dirname(__file__), "written.txt"), "w") as f:
                f.write("from the check")
            with open("/root/app/__init__.py", "w") as f:
                f.write("raise RuntimeError('overwritten')")

            def add(x: int) -> int:
                return x + 1
            """, ct);
        var before = File.ReadAllText(Path.Combine(project.SrcDir, "app", "__init__.py"));
        var env = Environment(project, out _);

        var deployment = await DeployAsync(project, env, registryAssembly: true, ct);

        Assert.False(File.Exists(Path.Combine(project.SrcDir, "app", "written.txt")));
        Assert.Equal(before, File.ReadAllText(Path.Combine(project.SrcDir, "app", "__init__.py")));
        var (code, listing) = await Podman.RunAsync("run", "--rm", "--tls-verify=false", deployment.ImageUri, "sh", "-c", "ls /root/app; cat /root/app/__init__.py");
        Assert.Equal(0, code);
        Assert.DoesNotContain("written.txt", listing);
        Assert.DoesNotContain("overwritten", listing);
    }

    [Fact]
    public async Task Deploy_CodeFolderHoldsALinkToAHostFile_RefusedBeforeAnyContainerAndNothingRecorded()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync("def add(x: int) -> int:\n    return x + 1\n", ct);
        var secret = Path.Combine(project.Root, "secret.txt");
        File.WriteAllText(secret, "host secret");
        File.CreateSymbolicLink(Path.Combine(project.SrcDir, "app", "secret.py"), secret);
        var env = Environment(project, out _);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => DeployAsync(project, env, registryAssembly: true, ct));

        Assert.Contains("outside root_dir", ex.Message);
        Assert.Empty(project.Runtime.Deployments("1"));
        Assert.Empty(await CheckContainersAsync(env));
    }

    [Fact]
    public async Task Deploy_ModuleHangsAtImport_TimesOutWithAClearErrorAndLeavesNoContainer()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = await NewProjectAsync("import time\ntime.sleep(3600)\n\ndef add(x: int) -> int:\n    return x + 1\n", ct);
        var env = Environment(project, out _);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            Deployer.DeployAsync([env], CopyStyle.None, "1", project.Config with { RootDir = project.SrcDir }, checkTimeout: TimeSpan.FromSeconds(8), cancellationToken: ct));

        Assert.Contains("did not finish within 8 s", ex.Message);
        Assert.Contains("blocks at import", ex.Fix);
        Assert.Empty(project.Runtime.Deployments("1"));
        Assert.Empty(await CheckContainersAsync(env));
    }

    [Fact]
    public async Task Deploy_LocalBaseIsNotTheOneInTheRegistry_StagedAnswerIgnoredAndTheDeployedImageDecides()
    {
        var ct = TestContext.Current.CancellationToken;
        // The registry's base lacks the package; a local image under the base's tag has it. The staged check (on the local
        // base) passes, but the assembled image is made on the registry's base, so the check must run in the deployed image.
        using var project = await NewProjectAsync("import planted_package\n\ndef add(x: int) -> int:\n    return x + 1\n", ct);
        var env = Environment(project, out _);
        var options = new ImageResolveOptions(project.Config with { RootDir = project.SrcDir }, CopyStyle.None);
        var full = env.Image.Resolve(options);
        var @base = RegistryAssembly.BaseOf(env.Image, full, options, RegistryAssembly.Split(full)!.Value)!;
        var context = Path.Combine(project.Root, "planted");
        Directory.CreateDirectory(context);
        File.WriteAllText(Path.Combine(context, "planted_package.py"), "VALUE = 1\n");
        File.WriteAllText(Path.Combine(context, "Dockerfile"), $"FROM {@base.Uri}\nCOPY planted_package.py /opt/venv/lib/python{BaseImage.PythonVersion}/site-packages/planted_package.py\n");
        var (code, output) = await Podman.RunAsync("build", "--tag", @base.Uri, context);
        Assert.True(code == 0, output);
        (code, output) = await Podman.RunAsync("run", "--rm", @base.Uri, "python3", "-c", "import planted_package");
        Assert.True(code == 0, "the planted local base cannot import the package itself: " + output);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => DeployAsync(project, env, registryAssembly: true, ct));

        Assert.Contains("planted_package", ex.Message);
        Assert.Empty(project.Runtime.Deployments("1"));
    }

    private static TaskEnvironment Environment(PodmanProject project, out FlyteTask<int, int> add)
    {
        var env = new TaskEnvironment("check-" + project.Repository[^10..], Image.FromDebianBase(BaseImage.PythonVersion).WithCodeBundle(), new Resources(Memory: "256Mi"));
        add = env.PythonTask<int, int>("app.ops:add");
        return env;
    }

    private static async Task<Deployment> DeployAsync(PodmanProject project, TaskEnvironment env, bool registryAssembly, CancellationToken ct) =>
        Assert.Single(await Deployer.DeployAsync([env], CopyStyle.None, "1", project.Config with { RootDir = project.SrcDir },
            registryAssembly: registryAssembly, cancellationToken: ct));

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

    /// <summary>The check containers of <paramref name="env"/> still there (running or not).</summary>
    private static async Task<string> CheckContainersAsync(TaskEnvironment env)
    {
        var (_, output) = await Podman.RunAsync("ps", "--all", "--filter", "label=flytesharp.environment=" + env.Name, "--format", "{{.Names}}");
        return output.Trim();
    }
}
