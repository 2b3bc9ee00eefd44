using FlyteSharp.Building;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Deploy;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Registry;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Deploy;

public class RegistryAssemblyTests(DistributionRegistry registry, BaseImage baseImage)
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
            Service(built, builderBuilds), cancellationToken: ct, registryAssembly: false));

        Assert.Equal(0, daemonlessBuilds.Builds);
        // No builder ran, yet the deploy's progress says the image was made, and how.
        var made = Assert.Single(daemonlessProgress.Updates);
        Assert.Equal((ImageBuildStage.Built, daemonlessDeploy.ImageUri, Deployer.RegistryAssemblyStep), (made.Stage, made.ImageUri, made.Step));
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

        var first = (await RegistryAssembly.TryPushAsync(image, full, options, new RegistryAssemblyOptions(), null, ct))?.ManifestDigest;
        using (var http = new HttpClient())
        {
            using var deleted = await http.DeleteAsync($"{registry.BaseUrl}/v2/{full.Repository}/manifests/{first}", ct);
            Assert.True(deleted.IsSuccessStatusCode, $"DELETE manifest: {deleted.StatusCode}");
        }

        using var client = new OciRegistryClient(registry.Host, project.Config);
        Assert.False(await client.ManifestExistsAsync(full.Repository, full.Tag, ct));
        var second = (await RegistryAssembly.TryPushAsync(image, full, options, new RegistryAssemblyOptions(), null, ct))?.ManifestDigest;

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

        Assert.Null(await RegistryAssembly.TryPushAsync(image, image.Resolve(options), options, new RegistryAssemblyOptions(), null, ct));
    }

    [Fact]
    public async Task Deploy_SourceFolderEnvWorkdirOnTop_AssembledWithoutBuilderAndSameAsPodmanBuilt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var daemonless = NewProject();
        using var built = NewProject();
        var image = LibraryImage(WriteLibrary(daemonless));
        var env = new TaskEnvironment("prod", image, new Resources(Memory: "128Mi"));
        _ = env.PythonTask<int, int>("app.ops:twice");
        foreach (var project in new[] { daemonless, built })
        {
            await BuildBaseAsync(project.Config with { RootDir = project.SrcDir }, image, ct);
        }

        var daemonlessBuilds = CountingBuilder.Podman();
        var daemonlessProgress = new RecordingBuildProgress();
        var lines = new List<string>();
        var daemonlessDeploy = Assert.Single(await Deployer.DeployAsync([env], CopyStyle.None, "1", daemonless.Config with { RootDir = daemonless.SrcDir },
            Service(daemonless, daemonlessBuilds), output: lines.Add, progress: daemonlessProgress, cancellationToken: ct));
        var builderBuilds = CountingBuilder.Podman();
        var builtDeploy = Assert.Single(await Deployer.DeployAsync([env], CopyStyle.None, "1", built.Config with { RootDir = built.SrcDir },
            Service(built, builderBuilds), cancellationToken: ct, registryAssembly: false));

        Assert.Equal(0, daemonlessBuilds.Builds);
        Assert.Equal(1, builderBuilds.Builds);
        Assert.Equal(Deployer.RegistryAssemblyStep, Assert.Single(daemonlessProgress.Updates).Step);
        // COPY /opt/lib, the WORKDIR that creates /srv/app and the code's COPY are layers; the ENV is config only.
        Assert.Contains(lines, l => l.Contains("+ 3 layer(s)", StringComparison.Ordinal) && l.Contains("and 1 config-only instruction(s)", StringComparison.Ordinal));

        Assert.Equal(0, (await Podman.RunAsync("pull", "--quiet", "--tls-verify=false", daemonlessDeploy.ImageUri)).ExitCode);
        var (daemonlessCode, daemonlessFiles) = await Podman.RunAsync("run", "--rm", daemonlessDeploy.ImageUri, "sh", "-c", Listing);
        var (builtCode, builtFiles) = await Podman.RunAsync("run", "--rm", builtDeploy.ImageUri, "sh", "-c", Listing);
        Assert.Equal(0, builtCode);
        Assert.Equal(0, daemonlessCode);
        Assert.True(daemonlessFiles.Contains("./pkg/data/blob.bin -rw-r--r-- 3145728", StringComparison.Ordinal) && daemonlessFiles.Contains("./run.sh -rwxr-xr-x", StringComparison.Ordinal)
            && daemonlessFiles.Contains("pwd=/srv/app", StringComparison.Ordinal) && daemonlessFiles.Contains("APP_MODE=prod \"quoted\" $HOME", StringComparison.Ordinal)
            && daemonlessFiles.Contains("./app/ops.py", StringComparison.Ordinal), daemonlessFiles);
        Assert.Equal(builtFiles, daemonlessFiles);
        foreach (var format in new[] { "{{json .Config.Env}}", "{{.Config.WorkingDir}}", "{{json .Config.Cmd}}", "{{json .Config.Entrypoint}}" })
        {
            Assert.Equal((await Podman.RunAsync("image", "inspect", "--format", format, builtDeploy.ImageUri)).Output,
                (await Podman.RunAsync("image", "inspect", "--format", format, daemonlessDeploy.ImageUri)).Output);
        }

        // The deployed version runs like a built one (the code under the workdir, the library on PYTHONPATH).
        var run = await new FlyteRuntime(daemonless.Config).Run(env.Tasks.OfType<FlyteTask<int, int>>().Single(), 21,
            new RunOptions { Version = "1", Mode = ExecutionMode.Container, CancellationToken = ct });
        Assert.Equal(42, await run.GetOutputAsync(ct));
        await run.WaitAsync(ct);
    }

    [Theory]
    [InlineData("lib")]
    [InlineData("/srv/app/../../opt/lib")]
    public async Task Deploy_CopyDestinationRelativeOrWithDots_ImageSameAsPodmanBuilt(string destination)
    {
        // A builder puts a relative COPY destination under the WORKDIR and resolves "..": the image must not depend on
        // whether the registry assembly or the builder made it.
        var ct = TestContext.Current.CancellationToken;
        using var daemonless = NewProject();
        using var built = NewProject();
        var image = Image.FromDebianBase("3.11").WithWorkdir("/srv/app").WithSourceFolder(WriteLibrary(daemonless), destination).WithCodeBundle();
        var env = new TaskEnvironment("prod", image, new Resources(Memory: "128Mi"));
        _ = env.PythonTask<int, int>("app.ops:twice");
        foreach (var project in new[] { daemonless, built })
        {
            await BuildBaseAsync(project.Config with { RootDir = project.SrcDir }, image, ct);
        }

        var daemonlessDeploy = Assert.Single(await Deployer.DeployAsync([env], CopyStyle.None, "1", daemonless.Config with { RootDir = daemonless.SrcDir },
            Service(daemonless, CountingBuilder.Podman()), cancellationToken: ct));
        var builtDeploy = Assert.Single(await Deployer.DeployAsync([env], CopyStyle.None, "1", built.Config with { RootDir = built.SrcDir },
            Service(built, CountingBuilder.Podman()), cancellationToken: ct, registryAssembly: false));

        Assert.Equal(0, (await Podman.RunAsync("pull", "--quiet", "--tls-verify=false", daemonlessDeploy.ImageUri)).ExitCode);
        const string where = "ls /srv/app/lib/pkg/data /opt/lib/pkg/data /lib/pkg/data 2>&1 | sort";
        var (_, daemonlessFiles) = await Podman.RunAsync("run", "--rm", daemonlessDeploy.ImageUri, "sh", "-c", where);
        var (_, builtFiles) = await Podman.RunAsync("run", "--rm", builtDeploy.ImageUri, "sh", "-c", where);
        Assert.Contains("blob.bin", builtFiles, StringComparison.Ordinal);
        Assert.Equal(builtFiles, daemonlessFiles);
    }

    [Fact]
    public async Task Deploy_TwoEnvironmentsInTwoRepositoriesWithOneBase_BuildsTheBaseOnceAndMountsItIntoTheOther()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = NewProject();
        var image = LibraryImage(WriteLibrary(project));
        var (first, second) = (project.Repository + "-etl", project.Repository + "-ml");
        var environments = new[] { new TaskEnvironment("etl", image.Clone(name: first)), new TaskEnvironment("ml", image.Clone(name: second)) };
        var builds = CountingBuilder.Podman();
        var lines = new List<string>();

        var deployments = await Deployer.DeployAsync(environments, CopyStyle.None, "1", project.Config with { RootDir = project.SrcDir }, Service(project, builds),
            output: lines.Add, cancellationToken: ct);

        // One builder run: the base, into the first repository; both images assembled on it, the second by mounting.
        Assert.Equal(1, builds.Builds);
        Assert.Equal([$"{registry.Host}/{first}:", $"{registry.Host}/{second}:"], deployments.Select(d => d.ImageUri[..(d.ImageUri.LastIndexOf(':') + 1)]));
        Assert.Contains(lines, l => l.StartsWith($"# registry assembly: {deployments[1].ImageUri} = {registry.Host}/{first}:", StringComparison.Ordinal)
            && l.Contains($"base blob(s) mounted and 0 copied from {first}", StringComparison.Ordinal) && !l.Contains(" 0 base blob(s) mounted", StringComparison.Ordinal));
        var (code, output) = await Podman.RunAsync("run", "--rm", await PullAsync(deployments[1].ImageUri), "cat", "/opt/lib/pkg/mod.py");
        Assert.Equal((0, "VALUE = 'from the library'"), (code, output.Trim()));
    }

    [Fact]
    public async Task TryPushAsync_SourceFolderEnvWorkdirTwice_SameManifestDigestAndHistory()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = NewProject();
        var image = LibraryImage(WriteLibrary(project));
        var config = project.Config with { RootDir = project.SrcDir };
        await BuildBaseAsync(config, image, ct);
        var options = new ImageResolveOptions(config, CopyStyle.None);
        var full = image.Resolve(options);

        var first = await RegistryAssembly.TryPushAsync(image, full, options, new RegistryAssemblyOptions(), null, ct);
        using (var http = new HttpClient())
        {
            using var deleted = await http.DeleteAsync($"{registry.BaseUrl}/v2/{full.Repository}/manifests/{first!.ManifestDigest}", ct);
            Assert.True(deleted.IsSuccessStatusCode, $"DELETE manifest: {deleted.StatusCode}");
        }

        var second = await RegistryAssembly.TryPushAsync(image, full, options, new RegistryAssemblyOptions(), null, ct);

        Assert.Equal(first.ManifestDigest, second!.ManifestDigest);
        // COPY /opt/lib, COPY of the code and the WORKDIR that creates /srv/app are layers; the ENV is config only.
        Assert.Equal((3, 1, 0, 0, false), (second.FileLayers, second.ConfigOnlyInstructions, second.BlobsMounted, second.BlobsCopied, second.BaseBuilt));
        var (code, history) = await Podman.RunAsync("image", "inspect", "--format", "{{json .History}}", await PullAsync(full.Uri));
        Assert.Equal(0, code);
        using var entries = System.Text.Json.JsonDocument.Parse(history);
        var envEntry = Assert.Single(entries.RootElement.EnumerateArray(), e => e.TryGetProperty("created_by", out var by) && by.GetString()!.StartsWith("ENV ", StringComparison.Ordinal));
        Assert.Equal("ENV APP_MODE=\"prod \\\"quoted\\\" \\$HOME\" PYTHONPATH=\"/opt/lib:/root\"", envEntry.GetProperty("created_by").GetString());
        Assert.True(envEntry.GetProperty("empty_layer").GetBoolean());
        Assert.Equal(RegistryAssembly.HistoryComment, envEntry.GetProperty("comment").GetString());
    }

    [Fact]
    public async Task TryPushAsync_BaseInAnotherRepository_MountsItsBlobsWithoutUploadingThem()
    {
        var ct = TestContext.Current.CancellationToken;
        using var owner = NewProject();
        using var target = NewProject();
        var image = LibraryImage(WriteLibrary(target));
        var @base = await BuildBaseAsync(owner.Config with { RootDir = owner.SrcDir }, image, ct);
        var baseLayers = await LayerDigestsAsync(owner.Repository, @base.Tag, ct);
        using var proxy = new FaultyRegistryProxy(registry, [], throughProxy: true);
        var config = target.Config with { RootDir = target.SrcDir, Registry = proxy.Host, InsecureRegistries = [proxy.Host] };
        var options = new ImageResolveOptions(config, CopyStyle.None);
        var full = image.Resolve(options);

        var result = await RegistryAssembly.TryPushAsync(image, full, options,
            new RegistryAssemblyOptions { BaseRepositories = [owner.Repository], EnsureBaseAsync = (_, _) => throw new InvalidOperationException("the base exists: nothing to build") }, null, ct);

        Assert.NotNull(result);
        Assert.Equal((baseLayers.Count, 0, false), (result.BlobsMounted, result.BlobsCopied, result.BaseBuilt));
        Assert.Equal($"{proxy.Host}/{owner.Repository}:{@base.Tag}", result.BaseUri);
        foreach (var digest in baseLayers)
        {
            Assert.Contains(proxy.Exchanges, e => e is { Method: "POST", Status: 201 } && e.Url.Contains("mount=" + Uri.EscapeDataString(digest), StringComparison.Ordinal)
                && e.Url.Contains("from=" + Uri.EscapeDataString(owner.Repository), StringComparison.Ordinal));
            Assert.DoesNotContain(proxy.Exchanges, e => e.Method == "PUT" && e.Url.Contains(Uri.EscapeDataString(digest), StringComparison.Ordinal));
            Assert.True(await BlobExistsAsync(target.Repository, digest, ct), digest);
        }

        // Only the new layers and the config went up, each in one PUT; no PATCH.
        Assert.Equal(result.FileLayers + 1, proxy.Exchanges.Count(e => e.Method == "PUT" && e.Url.Contains("/blobs/uploads/", StringComparison.Ordinal)));
        Assert.DoesNotContain(proxy.Exchanges, e => e.Method == "PATCH");
        var (code, output) = await Podman.RunAsync("run", "--rm", await PullAsync($"{registry.Host}/{full.Repository}:{full.Tag}"), "cat", "/opt/lib/pkg/mod.py");
        Assert.Equal((0, "VALUE = 'from the library'"), (code, output.Trim()));
    }

    [Fact]
    public async Task TryPushAsync_RegistryAnswersMountWithUploadSession_CopiesTheBlobsIntoThatSession()
    {
        var ct = TestContext.Current.CancellationToken;
        using var owner = NewProject();
        using var target = NewProject();
        var image = LibraryImage(WriteLibrary(target));
        var @base = await BuildBaseAsync(owner.Config with { RootDir = owner.SrcDir }, image, ct);
        var baseLayers = await LayerDigestsAsync(owner.Repository, @base.Tag, ct);
        // A registry that does not mount answers 202 with an upload session: the proxy drops the mount parameters.
        using var proxy = new FaultyRegistryProxy(registry, [], throughProxy: true,
            rewriteUrl: url => url.Contains("mount=", StringComparison.Ordinal) ? url[..url.IndexOf('?', StringComparison.Ordinal)] : url);
        var config = target.Config with { RootDir = target.SrcDir, Registry = proxy.Host, InsecureRegistries = [proxy.Host] };
        var options = new ImageResolveOptions(config, CopyStyle.None);

        var result = await RegistryAssembly.TryPushAsync(image, image.Resolve(options), options, new RegistryAssemblyOptions { BaseRepositories = [owner.Repository] }, null, ct);

        Assert.Equal((0, baseLayers.Count), (result!.BlobsMounted, result.BlobsCopied));
        foreach (var digest in baseLayers)
        {
            Assert.Contains(proxy.Exchanges, e => e is { Method: "POST", Status: 202 } && e.Url.Contains("mount=" + Uri.EscapeDataString(digest), StringComparison.Ordinal));
            Assert.Contains(proxy.Exchanges, e => e is { Method: "PUT", Status: 201 } && e.Url.Contains("digest=" + Uri.EscapeDataString(digest), StringComparison.Ordinal));
            Assert.True(await BlobExistsAsync(target.Repository, digest, ct), digest);
        }
    }

    [Fact]
    public async Task TryPushAsync_HostileSourceFolder_RefusedOrLeftToTheBuilderAndNothingTagged()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = NewProject();
        var lib = WriteLibrary(project);
        var image = LibraryImage(lib);
        var config = project.Config with { RootDir = project.SrcDir };
        await BuildBaseAsync(config, image, ct);
        var options = new ImageResolveOptions(config, CopyStyle.None);
        using var client = new OciRegistryClient(registry.Host, project.Config);

        // Over the bundle's limits: left to the builder (whose context has none), nothing pushed under the tag.
        var full = image.Resolve(options);
        var lines = new List<string>();
        Assert.Null(await RegistryAssembly.TryPushAsync(image, full, options, new RegistryAssemblyOptions { Limits = new ExtractionLimits { MaxTotalBytes = 1 << 20 } }, lines.Add, ct));
        Assert.Contains(lines, l => l.Contains("over the limit of", StringComparison.Ordinal) && l.Contains("the builder makes it", StringComparison.Ordinal));
        Assert.Null(await RegistryAssembly.TryPushAsync(image, full, options, new RegistryAssemblyOptions { Limits = new ExtractionLimits { MaxEntries = 3 } }, null, ct));

        // A file replaced by a symlink to a secret after the image was resolved: refused, naming it; no tag.
        var secret = Path.Combine(project.Root, "secret.txt");
        File.WriteAllText(secret, "PRIVATE KEY");
        var mod = Path.Combine(lib, "pkg", "mod.py");
        File.Delete(mod);
        File.CreateSymbolicLink(mod, secret);
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => RegistryAssembly.TryPushAsync(image, full, options, new RegistryAssemblyOptions(), null, ct));
        Assert.Contains("was replaced by a symbolic link", ex.Message);
        Assert.Equal(mod, ex.File);

        // A FIFO in its place: refused (never opened, which would block).
        File.Delete(mod);
        Assert.Equal(0, (await ChildProcess.RunAsync("mkfifo", [mod], cancellationToken: ct)).Code);
        ex = await Assert.ThrowsAsync<FlyteSharpException>(() => RegistryAssembly.TryPushAsync(image, full, options, new RegistryAssemblyOptions(), null, ct));
        Assert.Contains("not a regular file", ex.Message);
        Assert.False(await client.ManifestExistsAsync(full.Repository, full.Tag, ct));

        // Gone since the image was resolved: a clear error naming it, not a stack trace.
        File.Delete(mod);
        ex = await Assert.ThrowsAsync<FlyteSharpException>(() => RegistryAssembly.TryPushAsync(image, full, options, new RegistryAssemblyOptions(), null, ct));
        Assert.Contains("cannot read the file for its image layer", ex.Message);
        Assert.Equal(mod, ex.File);
        Assert.False(await client.ManifestExistsAsync(full.Repository, full.Tag, ct));
        Assert.Equal(0, (await ChildProcess.RunAsync("mkfifo", [mod], cancellationToken: ct)).Code);

        // Resolving again refuses the FIFO and a link out of the folder before anything is made (the image rules).
        Assert.Contains("not a regular file", Assert.Throws<FlyteSharpException>(() => image.Resolve(options)).Message);
        File.Delete(mod);
        File.CreateSymbolicLink(mod, secret);
        Assert.Contains("outside the folder being copied", Assert.Throws<FlyteSharpException>(() => image.Resolve(options)).Message);
    }

    private async Task<IReadOnlyList<string>> LayerDigestsAsync(string repository, string tag, CancellationToken ct)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{registry.BaseUrl}/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd(OciRegistryClient.OciManifestMediaType);
        request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
        using var response = await http.SendAsync(request, ct);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return [.. json.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)];
    }

    private async Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken ct)
    {
        using var http = new HttpClient();
        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{registry.BaseUrl}/v2/{repository}/blobs/{digest}"), ct);
        return response.IsSuccessStatusCode;
    }

    private static async Task<string> PullAsync(string uri)
    {
        var (code, output) = await Podman.RunAsync("pull", "--quiet", "--tls-verify=false", uri);
        Assert.True(code == 0, output);
        return uri;
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

    /// <summary>Builds (podman) the base of <paramref name="image"/>: its layers up to the last one only a builder can make.</summary>
    private static async Task<ResolvedImage> BuildBaseAsync(FlyteConfig config, Image image, CancellationToken ct)
    {
        var options = new ImageResolveOptions(config, CopyStyle.None);
        var (baseLayers, _) = RegistryAssembly.Split(image.Resolve(options))!.Value;
        var @base = image.Take(baseLayers).Resolve(options);
        var service = await ImageBuildServices.CreateAsync(config, cancellationToken: ct);
        await service.EnsureAsync([ImageBuildTarget.From(@base, "prod")], cancellationToken: ct);
        return @base;
    }

    /// <summary>A folder with a package, a subfolder, an executable script and a 3 MiB binary file.</summary>
    private static string WriteLibrary(PodmanProject project)
    {
        var lib = Path.Combine(project.Root, "lib");
        Directory.CreateDirectory(Path.Combine(lib, "pkg", "data"));
        File.WriteAllText(Path.Combine(lib, "pkg", "__init__.py"), "");
        File.WriteAllText(Path.Combine(lib, "pkg", "mod.py"), "VALUE = 'from the library'\n");
        File.WriteAllText(Path.Combine(lib, "pkg", "data", "notes.txt"), "one line\n");
        var script = Path.Combine(lib, "run.sh");
        File.WriteAllText(script, "#!/bin/sh\necho run\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var blob = new byte[3 << 20];
        new Random(7).NextBytes(blob);
        File.WriteAllBytes(Path.Combine(lib, "pkg", "data", "blob.bin"), blob);
        return lib;
    }

    private static Image LibraryImage(string lib) =>
        Image.FromDebianBase("3.11")
            .WithSourceFolder(lib, "/opt/lib")
            .WithEnvVars(new Dictionary<string, string> { ["APP_MODE"] = "prod \"quoted\" $HOME", ["PYTHONPATH"] = "/opt/lib:/root" })
            .WithWorkdir("/srv/app")
            .WithCodeBundle();

    private const string Listing =
        "echo \"pwd=$(pwd)\"; for d in /opt/lib /srv/app /root; do cd $d && echo \"== $d\" && find . -printf '%p %M %s\\n' | sort && find . -type f -exec sha256sum {} + | sort; done; " +
        "stat -c '%n %a' /srv /srv/app /opt /opt/lib; env | grep -E '^(APP_MODE|PYTHONPATH|PATH)=' | sort";

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
