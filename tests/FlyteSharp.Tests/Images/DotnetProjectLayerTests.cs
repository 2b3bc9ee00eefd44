using FlyteSharp.Building;
using System.Text.Json;
using FlyteSharp.Images;
using FlyteSharp.Projects;
using FlyteSharp.Tests.Projects.Dotnet;

namespace FlyteSharp.Tests.Images;

public sealed class DotnetProjectLayerTests : IDisposable
{
    /// <summary>The local .NET test base (scripts/dotnet-base-image.sh); resolving never pulls it.</summary>
    private const string DotnetBase = "localhost/flytesharp-test/debian-dotnet:bookworm";

    /// <summary>Set FLYTESHARP_UPDATE_GOLDEN=1 to rewrite the golden Dockerfiles from the current output.</summary>
    private static readonly bool UpdateGolden = Environment.GetEnvironmentVariable("FLYTESHARP_UPDATE_GOLDEN") == "1";

    private readonly DotnetFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static ResolvedImage Resolve(string project, DotnetInstallMode mode = DotnetInstallMode.DependenciesOnly, CopyStyle copyStyle = CopyStyle.All) =>
        ProjectTree.Resolve(Image.FromBase(DotnetBase).WithDotnetProject(project, mode), copyStyle);

    [Fact]
    public void Resolve_CsEditsAndNewSourceFiles_KeepTheDependenciesOnlyTag()
    {
        var before = Resolve(_fixture.TasksProject).Tag;
        _fixture.Replace("Tasks/Report.cs", "area = ", "doubled = 2 * ");
        _fixture.Write("Shapes/Circle.cs", "namespace Shapes;\npublic static class Circle { }\n");
        _fixture.Write("Tasks/bin/Release/net10.0/Tasks.dll", "stale build output");

        Assert.Equal(before, Resolve(_fixture.TasksProject).Tag);
    }

    [Theory]
    [InlineData("Tasks/Tasks.csproj", "Version=\"13.0.3\"", "Version=\"13.0.1\"")]
    [InlineData("Tasks/packages.lock.json", "\"resolved\": \"13.0.3\"", "\"resolved\": \"13.0.1\"")]
    [InlineData("Shapes/Shapes.csproj", "</Project>", "<ItemGroup><PackageReference Include=\"CsvHelper\" Version=\"33.1.0\" /></ItemGroup></Project>")]
    [InlineData("Directory.Build.props", "</Project>", "<PropertyGroup><RestoreSources>https://example.invalid/v3/index.json</RestoreSources></PropertyGroup></Project>")]
    public void Resolve_RestoreInputChanged_MovesTheTag(string file, string from, string to)
    {
        var before = Resolve(_fixture.TasksProject).Tag;
        _fixture.Replace(file, from, to);

        Assert.NotEqual(before, Resolve(_fixture.TasksProject).Tag);
    }

    [Theory]
    [InlineData("NuGet.config")]
    [InlineData("global.json")]
    [InlineData("Directory.Packages.props")]
    public void Resolve_RestoreInputAdded_MovesTheTag(string file)
    {
        var before = Resolve(_fixture.TasksProject).Tag;
        _fixture.Write(file, file.EndsWith(".json", StringComparison.Ordinal) ? "{\"sdk\": {\"version\": \"10.0.100\"}}" : "<Project />");

        Assert.NotEqual(before, Resolve(_fixture.TasksProject).Tag);
    }

    [Fact]
    public void Resolve_SameProjectAtTwoAbsolutePaths_SameTag()
    {
        using var other = new DotnetFixture("elsewhere/deeper/checkout");
        Assert.NotEqual(_fixture.TasksProject, other.TasksProject);

        Assert.Equal(Resolve(_fixture.TasksProject).Tag, Resolve(other.TasksProject).Tag);
        Assert.Equal(Resolve(_fixture.TasksProject, DotnetInstallMode.InstallProject).Tag, Resolve(other.TasksProject, DotnetInstallMode.InstallProject).Tag);
    }

    [Fact]
    public void Resolve_InstallProject_CsEditMovesTheTag_BuildOutputDoesNot()
    {
        var before = Resolve(_fixture.TasksProject, DotnetInstallMode.InstallProject);
        _fixture.Write("Shapes/bin/Release/net10.0/Shapes.dll", "build output");
        Assert.Equal(before.Tag, Resolve(_fixture.TasksProject, DotnetInstallMode.InstallProject).Tag);

        _fixture.Replace("Shapes/Square.cs", "side * side", "side * side + 0");
        Assert.NotEqual(before.Tag, Resolve(_fixture.TasksProject, DotnetInstallMode.InstallProject).Tag);
        Assert.NotEqual(before.Tag, Resolve(_fixture.TasksProject).Tag);
        Assert.Contains("COPY .flytesharp/layers/2-dotnet-app/ /opt/flytesharp/app/", before.Dockerfile);
    }

    [Fact]
    public void Resolve_InstallProjectCsEdit_OnlyTheAssembliesLayerMoves_SoTheRegistryAssemblyCanPutItOnTop()
    {
        var image = Image.FromBase(DotnetBase).WithDotnetProject(_fixture.TasksProject, DotnetInstallMode.InstallProject);
        var before = ProjectTree.Resolve(image);
        var split = RegistryAssembly.Split(before);
        Assert.NotNull(split);
        Assert.Equal(2, split.Value.BaseLayers);
        var copy = Assert.IsType<GeneratedCopyInstruction>(Assert.Single(split.Value.Top));
        Assert.Equal("/opt/flytesharp/app", copy.Destination);
        var baseBefore = ProjectTree.Resolve(image.Take(2)).Tag;

        _fixture.Replace("Shapes/Square.cs", "side * side", "side * side + 0");

        var after = ProjectTree.Resolve(image);
        Assert.NotEqual(before.Tag, after.Tag);
        Assert.Equal(baseBefore, ProjectTree.Resolve(image.Take(2)).Tag);
        // The base is the dependencies-only image itself: a fast-deploy run's image serves as the full build's base.
        Assert.Equal(Resolve(_fixture.TasksProject).Tag, baseBefore);
    }

    [Fact]
    public void Resolve_FullBuild_BakesTheAssembliesLikeInstallProject()
    {
        var full = Resolve(_fixture.TasksProject, copyStyle: CopyStyle.None);
        var fast = Resolve(_fixture.TasksProject);

        Assert.Equal(Resolve(_fixture.TasksProject, DotnetInstallMode.InstallProject).Tag, full.Tag);
        Assert.Contains("COPY .flytesharp/layers/2-dotnet-app/ /opt/flytesharp/app/", full.Dockerfile);
        Assert.DoesNotContain("/opt/flytesharp/app", fast.Dockerfile);
        _fixture.Replace("Tasks/Report.cs", "area = ", "doubled = 2 * ");
        Assert.NotEqual(full.Tag, Resolve(_fixture.TasksProject, copyStyle: CopyStyle.None).Tag);
        Assert.Equal(fast.Tag, Resolve(_fixture.TasksProject).Tag);
    }

    [Theory]
    [InlineData(DotnetInstallMode.DependenciesOnly, "dotnet-deps.Dockerfile")]
    [InlineData(DotnetInstallMode.InstallProject, "dotnet-deps.install-project.Dockerfile")]
    public void Resolve_Dockerfile_MatchesGolden(DotnetInstallMode mode, string golden)
    {
        var dockerfile = Resolve(_fixture.TasksProject, mode).Dockerfile;

        var path = Path.Combine(SourceLocation.Directory(), "Golden", golden);
        if (UpdateGolden)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, dockerfile);
        }

        Assert.True(File.Exists(path), $"missing golden file {path}; run with FLYTESHARP_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(path), dockerfile);
    }

    [Fact]
    public void Resolve_AspNetFrameworkReferenceOfAReferencedProject_ChecksThatFrameworkToo()
    {
        var before = Resolve(_fixture.TasksProject).Tag;
        _fixture.Replace("Shapes/Shapes.csproj", "</Project>", "<ItemGroup><FrameworkReference Include=\"Microsoft.AspNetCore.App\" /></ItemGroup></Project>");

        var dockerfile = Resolve(_fixture.TasksProject).Dockerfile;

        Assert.Contains("*\" Microsoft.NETCore.App 10.\"*", dockerfile);
        Assert.Contains("*\" Microsoft.AspNetCore.App 10.\"*", dockerfile);
        Assert.NotEqual(before, Resolve(_fixture.TasksProject).Tag);
    }

    [Fact]
    public void ContextFiles_ListTheGeneratedFolderNotTheProjectFiles()
    {
        var resolved = Resolve(_fixture.TasksProject);

        Assert.Contains(".flytesharp/layers/1-dotnet/", resolved.ContextFiles);
        Assert.DoesNotContain(resolved.ContextFiles, f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WriteBuildContextAsync_DependenciesOnly_HoldsThePackageAndItsManifestButNoProjectAssembly()
    {
        using var context = new TempTree();
        var dir = Path.Combine(context.Root, "ctx");

        await Resolve(_fixture.TasksProject).WriteBuildContextAsync(dir, TestContext.Current.CancellationToken);

        var layer = Path.Combine(dir, ".flytesharp", "layers", "1-dotnet");
        Assert.Equal(["packages/Newtonsoft.Json.dll", "packages/flytesharp-packages.json"], Files(layer));
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(home, ".nuget", "packages"), "newtonsoft.json", "13.0.3", "lib", "net6.0", "Newtonsoft.Json.dll");
        Assert.Equal(await File.ReadAllBytesAsync(cached, TestContext.Current.CancellationToken), await File.ReadAllBytesAsync(Path.Combine(layer, "packages", "Newtonsoft.Json.dll"), TestContext.Current.CancellationToken));
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layer, "packages", "flytesharp-packages.json"), TestContext.Current.CancellationToken));
        var package = Assert.Single(manifest.RootElement.GetProperty("packages").EnumerateArray());
        Assert.Equal("Newtonsoft.Json", package.GetProperty("name").GetString());
        Assert.Equal("13.0.3", package.GetProperty("version").GetString());
        Assert.Equal(["Newtonsoft.Json.dll"], package.GetProperty("files").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public async Task WriteBuildContextAsync_InstallProject_AddsTheProjectsAssembliesUnderApp()
    {
        using var context = new TempTree();
        var dir = Path.Combine(context.Root, "ctx");

        await Resolve(_fixture.TasksProject, DotnetInstallMode.InstallProject).WriteBuildContextAsync(dir, TestContext.Current.CancellationToken);

        Assert.Equal(["packages/Newtonsoft.Json.dll", "packages/flytesharp-packages.json"], Files(Path.Combine(dir, ".flytesharp", "layers", "1-dotnet")));
        Assert.Equal(["Shapes.dll", "Shapes.pdb", "Tasks.deps.json", "Tasks.dll", "Tasks.pdb"], Files(Path.Combine(dir, ".flytesharp", "layers", "2-dotnet-app")));
    }

    [Fact]
    public async Task WriteBuildContextAsync_ProjectDoesNotCompile_CompilerErrorAndNothingWritten()
    {
        using var context = new TempTree();
        var dir = Path.Combine(context.Root, "ctx");
        _fixture.Write("Tasks/Report.cs", "namespace DotnetDeps.Tasks;\n\npublic static class Report\n{\n    public static string Squares(int n) => Missing.Call(n);\n}\n");
        var resolved = Resolve(_fixture.TasksProject);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => resolved.WriteBuildContextAsync(dir, TestContext.Current.CancellationToken));

        Assert.Equal((_fixture.PathOf("Tasks/Report.cs"), 5), (ex.File, ex.Line));
        Assert.Contains("error CS0103: The name 'Missing' does not exist", ex.Reason);
        Assert.False(Directory.Exists(dir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(context.Root));
    }

    [Fact]
    public void WithDotnetProject_BadInput_ClearErrors()
    {
        var folder = Assert.Throws<FlyteSharpException>(() => Image.FromBase(DotnetBase).WithDotnetProject(_fixture.PathOf("Tasks")));
        Assert.Contains("is not a .csproj file", folder.Reason);

        var missing = Assert.Throws<FlyteSharpException>(() => Image.FromBase(DotnetBase).WithDotnetProject(_fixture.PathOf("Nope/Nope.csproj")));
        Assert.Equal(("project file not found", _fixture.PathOf("Nope/Nope.csproj")), (missing.Reason, missing.File));

        var twice = Assert.Throws<FlyteSharpException>(() => Image.FromBase(DotnetBase).WithDotnetProject(_fixture.TasksProject).WithDotnetProject(_fixture.PathOf("Shapes/Shapes.csproj")));
        Assert.Contains("already has a .NET project", twice.Reason);

        _fixture.Replace("Shapes/Shapes.csproj", "net10.0", "netstandard2.0");
        var standard = Assert.Throws<FlyteSharpException>(() => Image.FromBase(DotnetBase).WithDotnetProject(_fixture.PathOf("Shapes/Shapes.csproj")));
        Assert.Contains("targets netstandard2.0, which does not run on a .NET runtime image by itself", standard.Reason);
    }

    [Fact]
    public void Resolve_HostileProjectFileName_NeverReachesTheDockerfileAsShellOrInstructions()
    {
        var hostile = _fixture.PathOf("Shapes/we\"ird`$(id)\nRUN x.csproj");
        File.Move(_fixture.PathOf("Shapes/Shapes.csproj"), hostile);

        var dockerfile = ProjectTree.Resolve(Image.FromBase(DotnetBase).WithDotnetProject(hostile)).Dockerfile;

        Assert.Contains("# .NET project 'we?ird???id??RUN x' (net10.0;", dockerfile);
        Assert.Contains("error: project 'we?ird???id??RUN x' targets net10.0", dockerfile);
        Assert.DoesNotContain("$(id)", dockerfile);
        Assert.DoesNotContain("\nRUN x", dockerfile);
    }

    [Fact]
    public void WithDotnetProject_PlatformSpecificFramework_IsRefused()
    {
        _fixture.Replace("Shapes/Shapes.csproj", "net10.0", "net10.0-windows");

        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromBase(DotnetBase).WithDotnetProject(_fixture.PathOf("Shapes/Shapes.csproj")));

        Assert.Contains("targets net10.0-windows, a platform-specific framework", ex.Reason);
        Assert.Contains("plain net10.0", ex.Fix);
    }

    [Fact]
    public void Resolve_ProjectChangedToMultiTargetingAfterDefinition_FailsAtResolve()
    {
        var image = Image.FromBase(DotnetBase).WithDotnetProject(_fixture.TasksProject);
        _fixture.Replace("Tasks/Tasks.csproj", "<TargetFramework>net10.0</TargetFramework>", "<TargetFrameworks>net8.0;net10.0</TargetFrameworks>");

        var ex = Assert.Throws<FlyteSharpException>(() => ProjectTree.Resolve(image));

        Assert.Equal((_fixture.TasksProject, 3), (ex.File, ex.Line));
    }

    private static List<string> Files(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];
}
