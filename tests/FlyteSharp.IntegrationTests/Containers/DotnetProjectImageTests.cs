using System.Diagnostics;
using FlyteSharp.Building;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>
/// .NET project layers built for real: a host <c>dotnet publish</c>, podman, the test registry and the local .NET base
/// (scripts/dotnet-base-image.sh). The project is tests/Fixtures/DotnetDeps (Newtonsoft.Json 13.0.3, locked, and a
/// referenced project without packages), copied so the tests can edit it.
/// </summary>
public sealed class DotnetProjectImageTests(DistributionRegistry registry) : IAsyncLifetime
{
    private readonly PodmanProject _project = new(registry);

    public ValueTask InitializeAsync() => new(DotnetBaseImage.EnsureAsync());

    public ValueTask DisposeAsync()
    {
        _project.Dispose();
        return ValueTask.CompletedTask;
    }

    private string CopyFixture()
    {
        var source = Path.Combine(BaseImage.RepositoryRoot, "tests", "Fixtures", "DotnetDeps");
        var target = Path.Combine(_project.Root, "dotnet");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, relative))!);
            File.Copy(file, Path.Combine(target, relative));
        }

        return Path.Combine(target, "Tasks", "Tasks.csproj");
    }

    private static void Replace(string file, string from, string to)
    {
        var text = File.ReadAllText(file);
        Assert.Contains(from, text);
        File.WriteAllText(file, text.Replace(from, to, StringComparison.Ordinal));
    }

    private ResolvedImage Resolve(string csproj, DotnetInstallMode mode = DotnetInstallMode.DependenciesOnly, string baseImage = DotnetBaseImage.Reference) =>
        Image.FromBase(baseImage).WithDotnetProject(csproj, mode).Resolve(new ImageResolveOptions(_project.Config));

    private async Task<ImageBuildResult> BuildAsync(ResolvedImage image)
    {
        var service = await ImageBuildServices.CreateAsync(_project.Config, cancellationToken: TestContext.Current.CancellationToken);
        return Assert.Single(await service.BuildAsync([ImageBuildTarget.From(image, "tasks")], cancellationToken: TestContext.Current.CancellationToken));
    }

    private static async Task<List<string>> FilesInImageAsync(string uri)
    {
        var (exit, output) = await Podman.RunAsync("run", "--rm", uri, "find", "/opt/flytesharp", "/root", "-type", "f");
        Assert.True(exit == 0, output);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Build_DependenciesOnly_PackageDllInTheImageNoProjectDll_CsEditZeroBuilds_VersionChangeOneBuild()
    {
        var csproj = CopyFixture();
        var image = Resolve(csproj);

        var built = await BuildAsync(image);

        Assert.True(built.Status == ImageBuildStatus.Built, built.Error);
        var files = await FilesInImageAsync(image.Uri);
        Assert.Contains("/opt/flytesharp/packages/Newtonsoft.Json.dll", files);
        Assert.Contains("/opt/flytesharp/packages/flytesharp-packages.json", files);
        Assert.DoesNotContain(files, f => f.EndsWith("/Tasks.dll", StringComparison.Ordinal) || f.EndsWith("/Shapes.dll", StringComparison.Ordinal) || f.EndsWith(".cs", StringComparison.Ordinal));
        var (_, manifest) = await Podman.RunAsync("run", "--rm", image.Uri, "cat", "/opt/flytesharp/packages/flytesharp-packages.json");
        Assert.Contains("\"version\": \"13.0.3\"", manifest);

        // A .cs edit: same tag, nothing to build.
        Replace(Path.Combine(Path.GetDirectoryName(csproj)!, "Report.cs"), "area = ", "doubled = 2 * ");
        var edited = Resolve(csproj);
        Assert.Equal(image.Tag, edited.Tag);
        Assert.Equal(ImageBuildStatus.SkippedExisting, (await BuildAsync(edited)).Status);

        // A package version change (re-locked, as the fix for a stale lock says): new tag, one build, the new version inside.
        Replace(csproj, "Version=\"13.0.3\"", "Version=\"13.0.1\"");
        await RestoreForceEvaluateAsync(csproj);
        var bumped = Resolve(csproj);
        Assert.NotEqual(image.Tag, bumped.Tag);
        var rebuilt = await BuildAsync(bumped);
        Assert.True(rebuilt.Status == ImageBuildStatus.Built, rebuilt.Error);
        (_, manifest) = await Podman.RunAsync("run", "--rm", bumped.Uri, "cat", "/opt/flytesharp/packages/flytesharp-packages.json");
        Assert.Contains("\"version\": \"13.0.1\"", manifest);
    }

    [Fact]
    public async Task Build_InstallProject_PutsTheProjectsAssembliesUnderApp()
    {
        var image = Resolve(CopyFixture(), DotnetInstallMode.InstallProject);

        var built = await BuildAsync(image);

        Assert.True(built.Status == ImageBuildStatus.Built, built.Error);
        var files = await FilesInImageAsync(image.Uri);
        Assert.Contains("/opt/flytesharp/app/Tasks.dll", files);
        Assert.Contains("/opt/flytesharp/app/Shapes.dll", files);
        Assert.Contains("/opt/flytesharp/app/Tasks.deps.json", files);
        Assert.Contains("/opt/flytesharp/packages/Newtonsoft.Json.dll", files);
        Assert.DoesNotContain("/opt/flytesharp/app/Newtonsoft.Json.dll", files);
    }

    [Fact]
    public async Task Build_ProjectTargetsAnotherRuntimeThanTheBase_FailsNamingBothVersionsAndTheConfigKey()
    {
        var csproj = CopyFixture();
        Replace(csproj, "net10.0", "net9.0");
        Replace(Path.Combine(Path.GetDirectoryName(csproj)!, "..", "Shapes", "Shapes.csproj"), "net10.0", "net9.0");
        File.Delete(Path.Combine(Path.GetDirectoryName(csproj)!, "packages.lock.json"));

        var failed = await BuildAsync(Resolve(csproj));

        Assert.Equal(ImageBuildStatus.Failed, failed.Status);
        Assert.Contains("targets net9.0 and needs Microsoft.NETCore.App 9.x, but the base image has: Microsoft.NETCore.App 10.", failed.Error);
        Assert.Contains("[images] dotnet_base", failed.Error);
    }

    [Fact]
    public async Task Deploy_CopyStyleNone_BakesTheProjectsAssembliesLikeInstallProject()
    {
        var ct = TestContext.Current.CancellationToken;
        var csproj = CopyFixture();
        var env = new TaskEnvironment("reports", Image.FromBase(DotnetBaseImage.Reference).WithDotnetProject(csproj).WithCodeBundle());
        env.Task("square", (int n) => Task.FromResult(n * n));
        using var runtime = new FlyteRuntime(_project.Config with { RootDir = _project.SrcDir });
        var fast = env.Image.Resolve(new ImageResolveOptions(runtime.Config));

        var deployment = await runtime.Deploy(env, CopyStyle.None, "1.0.0", new FlyteSharp.Deploy.DeployOptions { CancellationToken = ct });

        Assert.NotEqual(fast.Uri, deployment.ImageUri);
        var files = await FilesInImageAsync(deployment.ImageUri);
        Assert.Contains("/opt/flytesharp/app/Tasks.dll", files);
        Assert.Contains("/opt/flytesharp/app/Shapes.dll", files);
        Assert.Contains("/opt/flytesharp/packages/Newtonsoft.Json.dll", files);
    }

    private static async Task RestoreForceEvaluateAsync(string csproj)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "restore", csproj, "--force-evaluate", "-tl:off" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, output);
    }
}
