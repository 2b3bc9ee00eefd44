using FlyteSharp.Building;
using FlyteSharp.Deploy;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Registry;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Deploy;

public class RegistryCodeLayerTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task Deploy_DependencyImageInRegistry_PushesCodeLayerWithoutBuilderAndImageMatchesBuiltOne()
    {
        var ct = TestContext.Current.CancellationToken;
        using var daemonless = NewProject();
        using var built = NewProject();
        var image = Image.FromDebianBase("3.11").WithCodeBundle();
        var env = new TaskEnvironment("prod", image, new Resources(Memory: "128Mi"));
        var twice = env.PythonTask<int, int>("app.ops:twice");
        foreach (var project in new[] { daemonless, built })
        {
            await BuildDependencyImageAsync(project, image, ct);
        }

        var daemonlessBuilds = CountingBuilder.Podman();
        var daemonlessProgress = new RecordingBuildProgress();
        var daemonlessDeploy = Assert.Single(await Deployer.DeployAsync([env], CopyStyle.None, "1", daemonless.Config with { RootDir = daemonless.SrcDir },
            Service(daemonless, daemonlessBuilds), progress: daemonlessProgress, cancellationToken: ct));
        var builderBuilds = CountingBuilder.Podman();
        var builtDeploy = Assert.Single(await Deployer.DeployAsync([env], CopyStyle.None, "1", built.Config with { RootDir = built.SrcDir },
            Service(built, builderBuilds), cancellationToken: ct, registryCodeLayers: false));

        Assert.Equal(0, daemonlessBuilds.Builds);
        // No builder ran, yet the deploy's progress says the image was made, and how.
        var made = Assert.Single(daemonlessProgress.Updates);
        Assert.Equal((ImageBuildStage.Built, daemonlessDeploy.ImageUri, Deployer.RegistryCodeLayerStep), (made.Stage, made.ImageUri, made.Step));
        Assert.Equal(["prod"], made.Environments);
        Assert.Equal(1, builderBuilds.Builds);
        Assert.Equal(builtDeploy.ImageUri[builtDeploy.ImageUri.LastIndexOf(':')..], daemonlessDeploy.ImageUri[daemonlessDeploy.ImageUri.LastIndexOf(':')..]);

        // Same files, contents and modes under the code directory (and the rest of /root) as the image podman built.
        const string listing = "cd /root && find . -printf '%p %M %s\\n' | sort && find . -type f -exec sha256sum {} + | sort";
        Assert.Equal(0, (await Podman.RunAsync("pull", "--quiet", "--tls-verify=false", daemonlessDeploy.ImageUri)).ExitCode);
        var (daemonlessCode, daemonlessFiles) = await Podman.RunAsync("run", "--rm", daemonlessDeploy.ImageUri, "sh", "-c", listing);
        var (builtCode, builtFiles) = await Podman.RunAsync("run", "--rm", builtDeploy.ImageUri, "sh", "-c", listing);
        Assert.Equal(0, daemonlessCode);
        Assert.Equal(0, builtCode);
        Assert.True(daemonlessFiles.Contains("./app/ops.py", StringComparison.Ordinal) && daemonlessFiles.Contains("./scripts/tool.sh -rwxr-xr-x", StringComparison.Ordinal),
            daemonlessFiles + "\n--- built:\n" + builtFiles);
        Assert.Equal(builtFiles, daemonlessFiles);

        // And it runs a deployed version like the built one.
        var run = await new FlyteRuntime(daemonless.Config).Run(twice, 21, new RunOptions { Version = "1", Mode = ExecutionMode.Container, CancellationToken = ct });
        Assert.Equal(42, await run.GetOutputAsync(ct));
        await run.WaitAsync(ct);
    }

    [Fact]
    public async Task TryPushAsync_SameInputsTwice_SameManifestDigest()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = NewProject();
        var image = Image.FromDebianBase("3.11").WithCodeBundle();
        await BuildDependencyImageAsync(project, image, ct);
        var options = new ImageResolveOptions(project.Config with { RootDir = project.SrcDir }, CopyStyle.None);
        var full = image.Resolve(options);

        var first = await RegistryCodeLayer.TryPushAsync(image, full, options, null, ct);
        using (var http = new HttpClient())
        {
            using var deleted = await http.DeleteAsync($"{registry.BaseUrl}/v2/{full.Repository}/manifests/{first}", ct);
            Assert.True(deleted.IsSuccessStatusCode, $"DELETE manifest: {deleted.StatusCode}");
        }

        using var client = new OciRegistryClient(registry.Host, project.Config);
        Assert.False(await client.ManifestExistsAsync(full.Repository, full.Tag, ct));
        var second = await RegistryCodeLayer.TryPushAsync(image, full, options, null, ct);

        Assert.NotNull(first);
        Assert.StartsWith("sha256:", first);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task TryPushAsync_DependencyImageMissing_LeavesItToTheBuilder()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = NewProject();
        var image = Image.FromDebianBase("3.11").WithCodeBundle();
        var options = new ImageResolveOptions(project.Config with { RootDir = project.SrcDir }, CopyStyle.None);

        Assert.Null(await RegistryCodeLayer.TryPushAsync(image, image.Resolve(options), options, null, ct));
    }

    private PodmanProject NewProject()
    {
        var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def twice(x: int) -> int:\n    return x * 2\n");
        project.WritePython("app/data/notes.txt", "one line\n");
        var tool = Path.Combine(project.SrcDir, "scripts", "tool.sh");
        Directory.CreateDirectory(Path.GetDirectoryName(tool)!);
        File.WriteAllText(tool, "#!/bin/sh\necho tool\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return project;
    }

    private static async Task BuildDependencyImageAsync(PodmanProject project, Image image, CancellationToken ct)
    {
        var dependency = image.Resolve(new ImageResolveOptions(project.Config with { RootDir = project.SrcDir }, CopyStyle.All));
        var service = await ImageBuildServices.CreateAsync(project.Config, cancellationToken: ct);
        await service.EnsureAsync([ImageBuildTarget.From(dependency, "prod")], cancellationToken: ct);
    }

    private static ImageBuildService Service(PodmanProject project, CountingBuilder builder) =>
        new(builder, new RegistryTagProbe(project.Config), project.Config, TimeProvider.System);

    /// <summary>The real podman builder, counting how often a build is asked of it.</summary>
    private sealed class CountingBuilder(IImageBuilder inner) : IImageBuilder
    {
        private int _builds;

        public int Builds => _builds;

        public string Name => inner.Name;

        public static CountingBuilder Podman() => new(new PodmanBuilder());

        public Task BuildAsync(ImageBuildRequest request, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _builds);
            return inner.BuildAsync(request, cancellationToken);
        }

        public Task<bool> ExistsLocallyAsync(string imageUri, CancellationToken cancellationToken = default) => inner.ExistsLocallyAsync(imageUri, cancellationToken);
    }
}
