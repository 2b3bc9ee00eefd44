using FlyteSharp.Projects.Dotnet;

namespace FlyteSharp.Tests.Projects.Dotnet;

/// <summary>Runs the host's real <c>dotnet publish</c> (the .NET SDK is on every machine that builds FlyteSharp).</summary>
public sealed class DotnetPublisherTests : IDisposable
{
    private readonly DotnetFixture _fixture = new();
    private readonly TempTree _scratch = new();

    public void Dispose()
    {
        _fixture.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public async Task PublishAsync_Fixture_DepsJsonHasTheNuGetPackageAndBothProjects_UserTreeUntouched()
    {
        var before = Directory.EnumerateFileSystemEntries(_fixture.Root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

        var output = await DotnetPublisher.PublishAsync(DotnetProjectGraph.Load(_fixture.TasksProject), _scratch.Root, TestContext.Current.CancellationToken);

        var newtonsoft = Assert.Single(output.Deps.Libraries, l => l.Type == "package");
        Assert.Equal(("Newtonsoft.Json", "13.0.3"), (newtonsoft.Name, newtonsoft.Version));
        Assert.Equal(["Newtonsoft.Json.dll"], newtonsoft.Files);
        Assert.Equal(["Shapes: Shapes.dll", "Tasks: Tasks.dll"],
            output.Deps.Libraries.Where(l => l.Type == "project").Select(l => $"{l.Name}: {string.Join(", ", l.Files)}"));
        Assert.True(File.Exists(Path.Combine(output.Directory, "Newtonsoft.Json.dll")));
        Assert.Equal(["Newtonsoft.Json", "Shapes", "Tasks"], output.Deps.ClosureOf("Tasks").Order(StringComparer.Ordinal));

        // No bin/, obj/ or lock file written into the user's project: the publish has its own artifacts folder.
        Assert.Equal(before, Directory.EnumerateFileSystemEntries(_fixture.Root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task PublishAsync_SameSourcesIntoTwoScratchFolders_SameAssemblyAndPdbBytes_NoScratchPathInThem()
    {
        var ct = TestContext.Current.CancellationToken;
        var graph = DotnetProjectGraph.Load(_fixture.TasksProject);
        var first = await DotnetPublisher.PublishAsync(graph, Path.Combine(_scratch.Root, "one"), ct);
        var second = await DotnetPublisher.PublishAsync(graph, Path.Combine(_scratch.Root, "second-with-a-longer-name"), ct);

        foreach (var file in new[] { "Tasks.dll", "Tasks.pdb", "Shapes.dll", "Shapes.pdb" })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(first.Directory, file), ct);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(second.Directory, file), ct));
            // The debug directory names the PDB by a mapped path, never the scratch folder (which differs per publish).
            Assert.DoesNotContain(_scratch.Root, System.Text.Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PublishAsync_CompileError_ThrowsTheCompilerErrorWithFileAndLine()
    {
        _fixture.Write("Shapes/Square.cs", "namespace Shapes;\n\npublic static class Square\n{\n    public static int Area(int side) => side * side\n}\n");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            DotnetPublisher.PublishAsync(DotnetProjectGraph.Load(_fixture.TasksProject), _scratch.Root, TestContext.Current.CancellationToken));

        Assert.Equal((_fixture.PathOf("Shapes/Square.cs"), 5), (ex.File, ex.Line));
        Assert.Contains($"{_fixture.PathOf("Shapes/Square.cs")}:5: error CS1002: ; expected", ex.Reason);
        Assert.Contains("the project does not build", ex.Reason);
        Assert.Contains("fix the compiler errors", ex.Fix);
    }

    [Fact]
    public async Task PublishAsync_LockFileOutOfDate_SaysToRestoreWithForceEvaluate()
    {
        _fixture.Replace("Tasks/Tasks.csproj", "Version=\"13.0.3\"", "Version=\"13.0.1\"");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            DotnetPublisher.PublishAsync(DotnetProjectGraph.Load(_fixture.TasksProject), _scratch.Root, TestContext.Current.CancellationToken));

        Assert.Contains("error NU1004", ex.Reason);
        Assert.Contains("dotnet restore --force-evaluate", ex.Fix);
        Assert.Equal("13.0.3", File.ReadAllText(_fixture.PathOf("Tasks/packages.lock.json")).Contains("\"resolved\": \"13.0.3\"", StringComparison.Ordinal) ? "13.0.3" : "rewritten");
    }

    [Fact]
    public async Task PublishAsync_NoLockFileThoughTheProjectAsksForOne_PublishesWithoutWritingOne()
    {
        File.Delete(_fixture.PathOf("Tasks/packages.lock.json"));

        var output = await DotnetPublisher.PublishAsync(DotnetProjectGraph.Load(_fixture.TasksProject), _scratch.Root, TestContext.Current.CancellationToken);

        Assert.Contains(output.Deps.Libraries, l => l.Name == "Newtonsoft.Json" && l.Type == "package");
        Assert.Empty(Directory.EnumerateFiles(_fixture.Root, "*.lock.json", SearchOption.AllDirectories)); // FlyteSharp never writes lock files
    }

    [Fact]
    public void BuildFailed_NoCanonicalErrorLine_ShowsTheOutputTail()
    {
        var ex = DotnetPublisher.BuildFailed(DotnetProjectGraph.Load(_fixture.TasksProject), "line one\nSomething went wrong\n");

        Assert.Equal(_fixture.TasksProject, ex.File);
        Assert.Contains("Something went wrong", ex.Reason);
    }
}
