namespace FlyteSharp.Tests.Cli;

[Collection("examples")]
public sealed class DoctorCommandTests(ExamplesFixture fixture)
{
    [Fact]
    public async Task Doctor_PatternA_WarnsAboutMissingLockAndSaysHowToMakeOne()
    {
        var (code, output, error) = await ExamplesFixture.RunAsync("doctor", ExamplesFixture.PatternA, "--no-build", "--config", fixture.ConfigA);
        Assert.True(code == 0, error);
        Assert.Contains("warning [etl]: no uv.lock", output);
        Assert.Contains("warning [ml]: no uv.lock", output);
        Assert.Contains("run `uv lock` in", output);
        Assert.Contains("2 environment(s), 0 error(s), 2 warning(s)", output);
    }

    [Fact]
    public async Task Doctor_PatternB_DoesNotFlagSiblingLibraryOutsideRootDir()
    {
        var (code, output, error) = await ExamplesFixture.RunAsync("doctor", ExamplesFixture.PatternB, "--no-build", "--config", fixture.ConfigB);
        Assert.True(code == 0, error);
        Assert.DoesNotContain("WithSourceFolder", output);
        Assert.Contains("1 environment(s), 0 error(s), 1 warning(s)", output);
    }

    [Fact]
    public async Task Doctor_RootDirCoveringSiblingLibrary_FlagsWithSourceFolder()
    {
        var root = Path.Combine(ExamplesFixture.RepoRoot, "examples", "sibling-packages");
        var (code, output, _) = await ExamplesFixture.RunAsync("doctor", ExamplesFixture.PatternB, "--no-build", "--config", fixture.ConfigB, "--root-dir", root);
        Assert.Equal(0, code);
        Assert.Contains("warning [my_app]: WithSourceFolder copies", output);
        Assert.Contains("fix: remove WithSourceFolder", output);
    }

    [Fact]
    public async Task Doctor_UvWorkspaceExample_FindsNothing()
    {
        var (code, output, error) = await ExamplesFixture.RunAsync("doctor", ExamplesFixture.UvWorkspace, "--no-build", "--config", fixture.ConfigUvWorkspace);
        Assert.True(code == 0, error + output);
        Assert.Contains("2 environment(s), 0 error(s), 0 warning(s)", output);
    }

    [Fact]
    public async Task Doctor_UvWorkspaceExample_MemberDependencyAddedWithoutRelocking_IsAnError()
    {
        var member = Path.Combine(ExamplesFixture.RepoRoot, "examples", "uv-workspace", "packages", "reports", "pyproject.toml");
        var original = await File.ReadAllTextAsync(member, TestContext.Current.CancellationToken);
        try
        {
            await File.WriteAllTextAsync(member, original.Replace("dependencies = [\"pricing\"]", "dependencies = [\"pricing\", \"rich>=13\"]", StringComparison.Ordinal), TestContext.Current.CancellationToken);
            var (code, output, _) = await ExamplesFixture.RunAsync("doctor", ExamplesFixture.UvWorkspace, "--no-build", "--config", fixture.ConfigUvWorkspace);
            Assert.Equal(1, code);
            Assert.Contains($"error [reports]: uv.lock is out of date with the pyproject.toml of 'reports' (added: rich>=13) ({member}:6)", output);
            Assert.Contains("fix: run `uv lock` in", output);
        }
        finally
        {
            await File.WriteAllTextAsync(member, original, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Doctor_UvWorkspaceRootDirInsideOneMember_WarnsThatPackagesAreLeftOut()
    {
        var rootDir = Path.Combine(ExamplesFixture.RepoRoot, "examples", "uv-workspace", "packages", "pricing", "src");
        var (code, output, _) = await ExamplesFixture.RunAsync("doctor", ExamplesFixture.UvWorkspace, "--no-build", "--config", fixture.ConfigUvWorkspace, "--root-dir", rootDir);
        Assert.Equal(0, code);
        Assert.Contains("leaves workspace package(s) shop, reports out of the code bundle", output);
        Assert.Contains("fix: set root_dir to the workspace root", output);
    }

    [Fact]
    public async Task Doctor_DotnetProjectWithoutPackagesLock_WarnsWithRestorePackagesWithLockFileFix()
    {
        using var tasks = new FlyteSharp.Tests.Projects.Dotnet.DotnetFixture();
        File.Delete(tasks.PathOf("Tasks/packages.lock.json"));
        tasks.Replace("Tasks/Tasks.csproj", "<RestorePackagesWithLockFile>true</RestorePackagesWithLockFile>", "");
        var app = Path.Combine(tasks.TempRoot, "app");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup>
              <ItemGroup>
                <Reference Include="FlyteSharp"><HintPath>{Path.Combine(AppContext.BaseDirectory, "FlyteSharp.dll")}</HintPath><Private>false</Private></Reference>
              </ItemGroup>
            </Project>
            """, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(app, "Environments.cs"), $$"""
            using FlyteSharp.Images;
            using FlyteSharp.Tasks;

            public static class Environments
            {
                public static readonly TaskEnvironment Reports = new("reports",
                    Image.FromBase("localhost/flytesharp-test/debian-dotnet:bookworm").WithDotnetProject(@"{{tasks.TasksProject}}").WithCodeBundle());
            }
            """, TestContext.Current.CancellationToken);

        var (code, output, error) = await ExamplesFixture.RunAsync("doctor", app, "--root-dir", app);

        Assert.True(code == 0, error + output);
        Assert.Contains($"warning [reports]: no packages.lock.json for {tasks.TasksProject}", output);
        Assert.Contains("fix: set <RestorePackagesWithLockFile>true</RestorePackagesWithLockFile> in the project", output);
        Assert.Contains("1 environment(s), 0 error(s), 1 warning(s)", output);
    }
}
