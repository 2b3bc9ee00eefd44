using FlyteSharp.Projects.Dotnet;

namespace FlyteSharp.Tests.Projects.Dotnet;

public sealed class DotnetProjectGraphTests : IDisposable
{
    private readonly DotnetFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private List<string> RelativeInputs(DotnetProjectGraph graph, string? root = null) =>
        [.. graph.RestoreInputs.Select(p => Path.GetRelativePath(root ?? _fixture.Root, p).Replace('\\', '/')).Order(StringComparer.Ordinal)];

    [Fact]
    public void Load_Fixture_ReadsFrameworkPackagesReferencesAndEveryRestoreInput()
    {
        var graph = DotnetProjectGraph.Load(_fixture.TasksProject);

        Assert.Equal("net10.0", graph.Root.TargetFramework);
        Assert.Equal("10.0", graph.Root.RuntimeVersion);
        var package = Assert.Single(graph.Root.PackageReferences);
        Assert.Equal(("Newtonsoft.Json", "13.0.3", _fixture.TasksProject, 7), (package.Name, package.Version, package.File, package.Line));
        Assert.Equal(["Tasks", "Shapes"], graph.Projects.Select(p => p.Name));
        Assert.Equal(_fixture.PathOf("Tasks/packages.lock.json"), graph.Root.LockFile);
        Assert.True(graph.Root.RestoresWithLockFile);
        Assert.Null(graph.Projects[1].LockFile);
        Assert.Equal(["Directory.Build.props", "Shapes/Shapes.csproj", "Tasks/Tasks.csproj", "Tasks/packages.lock.json"], RelativeInputs(graph));
    }

    [Fact]
    public void Load_NuGetConfigAndGlobalJsonAbove_AreInputsUpToTheRepositoryRootOnly()
    {
        _fixture.Write("NuGet.Config", "<configuration />");
        _fixture.Write("Tasks/global.json", "{}");
        _fixture.Write("../global.json", "{}"); // the repository root (below) holds it: still an input
        _fixture.Write("../../nuget.config", "<configuration />"); // above the repository: not
        Directory.CreateDirectory(_fixture.PathOf("../.git"));

        var graph = DotnetProjectGraph.Load(_fixture.TasksProject);

        Assert.Equal(Path.GetFullPath(_fixture.PathOf("..")), graph.Repository);
        Assert.Equal(["../global.json", "Directory.Build.props", "NuGet.Config", "Shapes/Shapes.csproj", "Tasks/Tasks.csproj", "Tasks/global.json", "Tasks/packages.lock.json"],
            RelativeInputs(graph));
    }

    [Fact]
    public void Load_CentralPackageManagement_TakesVersionsFromDirectoryPackagesPropsAndHonoursVersionOverride()
    {
        _fixture.Write("Directory.Packages.props", """
            <Project>
              <PropertyGroup><ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally></PropertyGroup>
              <ItemGroup>
                <PackageVersion Include="Newtonsoft.Json" Version="13.0.1" />
                <PackageVersion Include="CsvHelper" Version="33.1.0" />
              </ItemGroup>
            </Project>
            """);
        _fixture.Replace("Tasks/Tasks.csproj", """<PackageReference Include="Newtonsoft.Json" Version="13.0.3" />""",
            """<PackageReference Include="Newtonsoft.Json" /><PackageReference Include="CsvHelper" VersionOverride="34.0.0" />""");

        var graph = DotnetProjectGraph.Load(_fixture.TasksProject);

        Assert.Equal([("Newtonsoft.Json", "13.0.1"), ("CsvHelper", "34.0.0")], graph.Root.PackageReferences.Select(p => (p.Name, p.Version!)));
        Assert.Contains(_fixture.PathOf("Directory.Packages.props"), graph.RestoreInputs);
    }

    [Fact]
    public void Load_TargetFrameworkFromDirectoryBuildPropsProperty_IsExpanded()
    {
        _fixture.Write("Directory.Build.props", "<Project><PropertyGroup><AppFramework>net9.0</AppFramework></PropertyGroup></Project>");
        _fixture.Replace("Shapes/Shapes.csproj", "<TargetFramework>net10.0</TargetFramework>", "<TargetFramework>$(AppFramework)</TargetFramework>");

        var graph = DotnetProjectGraph.Load(_fixture.PathOf("Shapes/Shapes.csproj"));

        Assert.Equal(("net9.0", "9.0"), (graph.Root.TargetFramework, graph.Root.RuntimeVersion));
    }

    [Fact]
    public void Load_ImportOfParentPropsThroughGetPathOfFileAbove_ReadsIt()
    {
        _fixture.Write("../Directory.Build.props", "<Project><PropertyGroup><AssemblyName>Renamed</AssemblyName></PropertyGroup></Project>");
        _fixture.Write("Directory.Build.props",
            "<Project>\n  <Import Project=\"$([MSBuild]::GetPathOfFileAbove('Directory.Build.props', '$(MSBuildThisFileDirectory)../'))\" />\n</Project>");

        var graph = DotnetProjectGraph.Load(_fixture.PathOf("Shapes/Shapes.csproj"));

        Assert.Equal("Renamed", graph.Root.AssemblyName);
        Assert.Contains(Path.GetFullPath(_fixture.PathOf("../Directory.Build.props")), graph.Root.MsBuildFiles);
    }

    [Fact]
    public void Load_ProjectReferenceToFlyteSharpWithTheWorkerTargets_ExpandsGetFullPathAndDoesNotFollowFlyteSharp()
    {
        // The layout of FlyteSharp's own repository: Directory.Build.targets imports the worker's targets (whose
        // ProjectReference path is a GetFullPath), and the worker references FlyteSharp (a cycle if conditions were ignored).
        _fixture.Write("Directory.Build.targets",
            "<Project>\n  <Import Project=\"lib/FlyteSharp.Worker/build/FlyteSharp.Worker.targets\" Condition=\"'$(MSBuildProjectName)' != 'FlyteSharp.Worker'\" />\n</Project>");
        _fixture.Write("lib/FlyteSharp.Worker/build/FlyteSharp.Worker.targets", """
            <Project>
              <PropertyGroup>
                <FlyteSharpWorkerProject>$([System.IO.Path]::GetFullPath('$(MSBuildThisFileDirectory)../FlyteSharp.Worker.csproj'))</FlyteSharpWorkerProject>
              </PropertyGroup>
              <ItemGroup Condition="'@(ProjectReference->AnyHaveMetadataValue('Filename', 'FlyteSharp'))' == 'true'">
                <ProjectReference Include="$(FlyteSharpWorkerProject)" ReferenceOutputAssembly="false" />
              </ItemGroup>
            </Project>
            """);
        _fixture.Write("lib/FlyteSharp.Worker/FlyteSharp.Worker.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><ProjectReference Include=\"../FlyteSharp/FlyteSharp.csproj\" /></ItemGroup></Project>");
        _fixture.Write("lib/FlyteSharp/FlyteSharp.csproj", "<Project Sdk=\"Microsoft.NET.Sdk\" />");
        _fixture.Replace("Tasks/Tasks.csproj", "<ProjectReference Include=\"../Shapes/Shapes.csproj\" />",
            "<ProjectReference Include=\"../Shapes/Shapes.csproj\" />\n    <ProjectReference Include=\"../lib/FlyteSharp/FlyteSharp.csproj\" />");

        var graph = DotnetProjectGraph.Load(_fixture.TasksProject);

        Assert.Contains(graph.Root.ProjectReferences, r => r.Path == _fixture.PathOf("lib/FlyteSharp.Worker/FlyteSharp.Worker.csproj"));
        Assert.Equal(["Tasks", "Shapes"], graph.Projects.Select(p => p.Name));
        Assert.DoesNotContain(graph.RestoreInputs, p => p.EndsWith(".csproj", StringComparison.Ordinal) && p.Contains("FlyteSharp", StringComparison.Ordinal));
        Assert.Contains(_fixture.PathOf("lib/FlyteSharp.Worker/build/FlyteSharp.Worker.targets"), graph.RestoreInputs);
    }

    [Fact]
    public void Load_DotnetTasksExample_ReadsItsLockAndCentralVersionThroughTheRepositoryTargets()
    {
        var root = DotnetFixture.RepositoryRoot();
        var graph = DotnetProjectGraph.Load(Path.Combine(root, "examples", "dotnet-tasks", "dotnet", "DotnetTasks.csproj"));

        var package = Assert.Single(graph.Root.PackageReferences);
        Assert.Equal(("Newtonsoft.Json", "13.0.3"), (package.Name, package.Version));
        Assert.True(graph.Root.RestoresWithLockFile);
        Assert.Contains("examples/dotnet-tasks/dotnet/packages.lock.json", RelativeInputs(graph, root));
        Assert.Contains("examples/dotnet-tasks/Directory.Packages.props", RelativeInputs(graph, root));
        Assert.Contains("Directory.Packages.props", RelativeInputs(graph, root));
    }

    [Fact]
    public void Load_MalformedProjectXml_NamesFileLineAndFix()
    {
        _fixture.Write("Shapes/Shapes.csproj", "<Project Sdk=\"Microsoft.NET.Sdk\">\n  <PropertyGroup>\n    <TargetFramework>net10.0</TargetFramework>\n  </PropertyGrop>\n</Project>\n");

        var ex = Assert.Throws<FlyteSharpException>(() => DotnetProjectGraph.Load(_fixture.TasksProject));

        Assert.Equal((_fixture.PathOf("Shapes/Shapes.csproj"), 4), (ex.File, ex.Line));
        Assert.Contains("not well-formed XML", ex.Reason);
        Assert.Contains("fix the XML", ex.Fix);
    }

    [Fact]
    public void Load_MissingProjectReference_NamesTheReferencingLine()
    {
        Directory.Delete(_fixture.PathOf("Shapes"), recursive: true);

        var ex = Assert.Throws<FlyteSharpException>(() => DotnetProjectGraph.Load(_fixture.TasksProject));

        Assert.Equal((_fixture.TasksProject, 10), (ex.File, ex.Line));
        Assert.Contains("referenced project not found: " + _fixture.PathOf("Shapes/Shapes.csproj"), ex.Reason);
        Assert.Contains("ProjectReference", ex.Fix);
    }

    [Fact]
    public void Load_SeveralTargetFrameworks_IsAnAmbiguityErrorAtTheirLine()
    {
        _fixture.Replace("Tasks/Tasks.csproj", "<TargetFramework>net10.0</TargetFramework>", "<TargetFrameworks>net8.0;net10.0</TargetFrameworks>");

        var ex = Assert.Throws<FlyteSharpException>(() => DotnetProjectGraph.Load(_fixture.TasksProject));

        Assert.Equal((_fixture.TasksProject, 3), (ex.File, ex.Line));
        Assert.Contains("several frameworks (net8.0;net10.0)", ex.Reason);
        Assert.Contains("<TargetFramework>net10.0</TargetFramework>", ex.Fix);
    }

    [Fact]
    public void Load_TargetFrameworkSetNextToSeveral_TheSingleOneWins()
    {
        _fixture.Write("Directory.Build.props", "<Project><PropertyGroup><TargetFrameworks>net8.0;net10.0</TargetFrameworks></PropertyGroup></Project>");

        Assert.Equal("net10.0", DotnetProjectGraph.Load(_fixture.TasksProject).Root.TargetFramework);
    }

    [Fact]
    public void Load_CircularReference_NamesTheCycle()
    {
        _fixture.Replace("Shapes/Shapes.csproj", "</Project>", "  <ItemGroup><ProjectReference Include=\"..\\Tasks\\Tasks.csproj\" /></ItemGroup>\n</Project>");

        var ex = Assert.Throws<FlyteSharpException>(() => DotnetProjectGraph.Load(_fixture.TasksProject));

        Assert.Contains("Tasks.csproj -> Shapes.csproj -> Tasks.csproj", ex.Reason);
        Assert.Equal(_fixture.PathOf("Shapes/Shapes.csproj"), ex.File);
    }

    [Fact]
    public void Load_UnconditionalImportOfMissingFile_IsAnErrorAtTheImport()
    {
        _fixture.Write("Directory.Build.props", "<Project>\n  <Import Project=\"build/common.props\" />\n  <Import Project=\"build/optional.props\" Condition=\"Exists('build/optional.props')\" />\n</Project>");

        var ex = Assert.Throws<FlyteSharpException>(() => DotnetProjectGraph.Load(_fixture.TasksProject));

        Assert.Equal((_fixture.PathOf("Directory.Build.props"), 2), (ex.File, ex.Line));
        Assert.Contains("'build/common.props' not found", ex.Reason);
    }
}
