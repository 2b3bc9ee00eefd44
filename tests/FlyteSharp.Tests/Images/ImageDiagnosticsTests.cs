using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public sealed class ImageDiagnosticsTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Check_SourceFolderUnderRootDir_Warns()
    {
        var pyproject = _tree.WriteWorkspace();
        var image = Image.FromDebianBase().WithUvProject(pyproject).WithSourceFolder(_tree.Path("ws/src/lib_transforms")).WithCodeBundle();
        var d = Assert.Single(ImageDiagnostics.Check(image, _tree.Path("ws/src")));
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Contains("root_dir", d.Reason);
        Assert.Contains("code bundle", d.Fix);
    }

    [Fact]
    public void Check_SourceFolderOutsideRootDir_IsFine()
    {
        var pyproject = _tree.WriteSiblings();
        var image = Image.FromDebianBase().WithUvProject(pyproject).WithSourceFolder(_tree.Path("sib/my_lib/src/my_lib")).WithCodeBundle();
        _tree.Write("sib/my_app/uv.lock", "version = 1\n\n[[package]]\nname = \"my-app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n\n[package.metadata]\nrequires-dist = [{ name = \"my-lib\", editable = \"../my_lib\" }]\n\n[[package]]\nname = \"my-lib\"\nversion = \"0.1.0\"\nsource = { editable = \"../my_lib\" }\n");
        image = Image.FromDebianBase().WithUvProject(pyproject).WithSourceFolder(_tree.Path("sib/my_lib/src/my_lib")).WithCodeBundle();
        Assert.Empty(ImageDiagnostics.Check(image, _tree.Path("sib/my_app/src")));
    }

    [Fact]
    public void Check_InstallProject_Warns() =>
        Assert.Contains(ImageDiagnostics.Check(Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace(), installMode: UvInstallMode.InstallProject).WithCodeBundle(), null),
            d => d.Reason.Contains("InstallProject"));

    [Fact]
    public void Check_NoLock_WarnsWithUvLockFix()
    {
        _tree.Write("nolock/pyproject.toml", ProjectTree.GroupsPyproject);
        var d = Assert.Single(ImageDiagnostics.Check(Image.FromDebianBase().WithUvProject(_tree.Path("nolock/pyproject.toml")).WithCodeBundle(), null));
        Assert.Contains("not reproducible", d.Reason);
        Assert.Contains("uv lock", d.Fix);
    }

    [Fact]
    public void Check_GroupRemovedFromPyprojectAfterDefinition_IsError()
    {
        var pyproject = _tree.WriteWorkspace();
        var image = Image.FromDebianBase().WithUvProject(pyproject, extraArgs: "--only-group etl").WithCodeBundle();
        File.WriteAllText(pyproject, ProjectTree.GroupsPyproject.Replace("etl = [\"pandas\"]\n", ""));
        var d = Assert.Single(ImageDiagnostics.Check(image, null), x => x.Severity == DiagnosticSeverity.Error);
        Assert.Contains("'etl'", d.Reason);
    }

    [Fact]
    public void Check_DotnetProjectWithoutLockFile_WarnsWithRestorePackagesWithLockFileFix()
    {
        using var fixture = new Projects.Dotnet.DotnetFixture();
        var locked = Image.FromBase("localhost/base:1").WithDotnetProject(fixture.TasksProject).WithCodeBundle();
        Assert.Empty(ImageDiagnostics.Check(locked, null));

        File.Delete(fixture.PathOf("Tasks/packages.lock.json"));
        var d = Assert.Single(ImageDiagnostics.Check(locked, null));
        Assert.Equal((DiagnosticSeverity.Warning, fixture.TasksProject), (d.Severity, d.File));
        Assert.Contains("no packages.lock.json", d.Reason);
        Assert.Contains("not reproducible", d.Reason);
        Assert.Contains("run `dotnet restore`", d.Fix); // RestorePackagesWithLockFile is already set in the fixture

        fixture.Replace("Tasks/Tasks.csproj", "<RestorePackagesWithLockFile>true</RestorePackagesWithLockFile>", "");
        Assert.Contains("<RestorePackagesWithLockFile>true</RestorePackagesWithLockFile>", Assert.Single(ImageDiagnostics.Check(locked, null)).Fix);
    }

    [Fact]
    public void Check_DotnetInstallProject_Warns_BrokenProjectAfterDefinition_IsError()
    {
        using var fixture = new Projects.Dotnet.DotnetFixture();
        var image = Image.FromBase("localhost/base:1").WithDotnetProject(fixture.TasksProject, DotnetInstallMode.InstallProject).WithCodeBundle();
        Assert.Contains("InstallProject bakes the assemblies of 'Tasks'", Assert.Single(ImageDiagnostics.Check(image, null)).Reason);

        fixture.Write("Shapes/Shapes.csproj", "<Project>\n  <PropertyGroup>\n</Project>\n");
        var error = Assert.Single(ImageDiagnostics.Check(image, null), x => x.Severity == DiagnosticSeverity.Error);
        Assert.Equal((fixture.PathOf("Shapes/Shapes.csproj"), 3), (error.File, error.Line));
    }

    [Fact]
    public void Check_NoCodeBundle_Warns() =>
        Assert.Contains(ImageDiagnostics.Check(Image.FromDebianBase(), null), d => d.Reason.Contains("WithCodeBundle"));

    [Fact]
    public void Check_StaleLock_IsAnErrorAtTheMembersDependenciesLine()
    {
        var pyproject = _tree.WriteUvWorkspace();
        var image = Image.FromDebianBase().WithUvProject(pyproject).WithCodeBundle();
        Assert.Empty(ImageDiagnostics.Check(image, _tree.Path("uvws")));

        _tree.Write("uvws/packages/tools/pyproject.toml", "[project]\nname = \"tools\"\nversion = \"0.1.0\"\ndependencies = [\"core\", \"rich\"]\n\n[tool.uv.sources]\ncore = { workspace = true }\n");
        var d = Assert.Single(ImageDiagnostics.Check(image, _tree.Path("uvws")));
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("uv.lock is out of date with the pyproject.toml of 'tools' (added: rich)", d.Reason);
        Assert.Equal((_tree.Path("uvws/packages/tools/pyproject.toml"), 4), (d.File, d.Line));
        Assert.Contains("uv lock", d.Fix);
    }

    [Fact]
    public void ThrowIfLockStale_StaleWorkspace_Throws_CurrentOne_DoesNot()
    {
        var pyproject = _tree.WriteUvWorkspace();
        var image = Image.FromDebianBase().WithUvProject(pyproject);
        ImageDiagnostics.ThrowIfLockStale([image]);

        _tree.Write("uvws/pyproject.toml", File.ReadAllText(pyproject).Replace("\"requests>=2.31\"", "\"requests>=2.32\"", StringComparison.Ordinal));
        var ex = Assert.Throws<FlyteSharpException>(() => ImageDiagnostics.ThrowIfLockStale([image]));
        Assert.Contains("uv.lock is out of date with pyproject.toml (added: requests>=2.32; removed: requests>=2.31)", ex.Message);
    }

    [Fact]
    public async Task Run_ContainerModeWithStaleLock_IsRefusedBeforeAnyBuild()
    {
        var pyproject = _tree.WriteUvWorkspace();
        var env = new FlyteSharp.Tasks.TaskEnvironment("ws", Image.FromDebianBase().WithUvProject(pyproject).WithCodeBundle());
        var go = env.PythonTask<int, int>("tools_pkg.run:go");
        _tree.Write("uvws/packages/core/pyproject.toml", "[project]\nname = \"core\"\nversion = \"0.1.0\"\ndependencies = [\"numpy >= 1.26, <3\", \"rich\"]\n\n[project.optional-dependencies]\nfast = [\"orjson\"]\n\n[dependency-groups]\netl = [\"pandas\"]\n");
        var home = _tree.Path("home");
        using var runtime = new FlyteRuntime(ProjectTree.Config with { Home = home, RunDatabase = Path.Combine(home, "runs.db"), RootDir = _tree.Path("uvws") });
        var options = new FlyteSharp.Execution.RunOptions
        {
            Mode = ExecutionMode.Container,
            CancellationToken = TestContext.Current.CancellationToken,
        };

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => runtime.Run(go, 1, options));

        Assert.Contains("uv.lock is out of date with the pyproject.toml of 'core' (added: rich)", ex.Message);
        Assert.False(Directory.Exists(Path.Combine(home, "builds")), "no build context may be written");
    }

    [Fact]
    public async Task Deploy_StaleLock_IsRefusedBeforeAnyBuild()
    {
        var pyproject = _tree.WriteUvWorkspace();
        var env = new FlyteSharp.Tasks.TaskEnvironment("ws", Image.FromDebianBase().WithUvProject(pyproject).WithCodeBundle());
        _ = env.PythonTask<int, int>("tools_pkg.run:go");
        File.WriteAllText(pyproject, File.ReadAllText(pyproject).Replace("dev = [\"pytest>=8\"]", "dev = [\"pytest>=8\", \"ruff\"]", StringComparison.Ordinal));
        var home = _tree.Path("home");
        var config = ProjectTree.Config with { Home = home, RunDatabase = Path.Combine(home, "runs.db") };

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => FlyteSharp.Deploy.Deployer.DeployAsync([env], CopyStyle.None, "1.0.0", config with { RootDir = _tree.Path("uvws") }, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("(added: ruff)", ex.Message);
        Assert.False(Directory.Exists(Path.Combine(home, "builds")));
    }
}
