using FlyteSharp.Projects.Uv;
using FlyteSharp.Tests.Images;

namespace FlyteSharp.Tests.Projects.Uv;

public sealed class UvProjectTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Load_GroupsSourcesAndWorkspace_AreRead()
    {
        var file = _tree.Write("p/pyproject.toml", """
            [project]
            name = "My_App"
            requires-python = ">=3.11"
            dependencies = ["my-lib", "requests>=2"]

            [dependency-groups]
            ETL = ["pandas"]
            all = [{ include-group = "ETL" }]

            [tool.uv]
            package = true
            dev-dependencies = ["pytest"]

            [tool.uv.sources]
            my-lib = { path = "../my_lib", editable = true }
            member = { workspace = true }

            [tool.uv.workspace]
            members = ["packages/*"]
            """);
        _tree.Write("p/packages/member/pyproject.toml", "[project]\nname = \"member\"\n");
        var project = UvProject.Load(file);
        Assert.Equal("My_App", project.Name);
        Assert.Equal(">=3.11", project.RequiresPython);
        Assert.Equal(["all", "dev", "etl"], project.DependencyGroups.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["include-group:etl"], project.DependencyGroups["all"]);
        Assert.Equal(["pytest"], project.DependencyGroups["dev"]);
        Assert.True(project.Sources["my-lib"] is { IsPath: true, Editable: true, Path: "../my_lib", Line: 15 });
        Assert.True(project.Sources["member"].Workspace);
        Assert.True(project.Package);
        Assert.Equal([_tree.Path("p/packages/member")], project.WorkspaceMemberDirectories());
    }

    [Fact]
    public void Load_MalformedToml_ThrowsWithLine()
    {
        var file = _tree.Write("bad/pyproject.toml", "[project]\nname = \"x\"\ndependencies = [\n");
        var ex = Assert.Throws<FlyteSharpException>(() => UvProject.Load(file));
        Assert.Equal(file, ex.File);
        Assert.NotNull(ex.Line);
        Assert.Contains("malformed TOML", ex.Message);
    }

    [Fact]
    public void Load_NoProjectTable_Throws()
    {
        var file = _tree.Write("noproj/pyproject.toml", "[tool.uv]\npackage = true\n");
        var ex = Assert.Throws<FlyteSharpException>(() => UvProject.Load(file));
        Assert.Contains("[project]", ex.Message);
        Assert.Equal(file, ex.File);
    }

    [Fact]
    public void Load_Missing_Throws() =>
        Assert.Equal(_tree.Path("none/pyproject.toml"), Assert.Throws<FlyteSharpException>(() => UvProject.Load(_tree.Path("none/pyproject.toml"))).File);

    [Fact]
    public void Load_SourceWithoutKind_ThrowsWithLine()
    {
        var file = _tree.Write("src/pyproject.toml", "[project]\nname = \"x\"\n\n[tool.uv.sources]\nfoo = { editable = true }\n");
        Assert.Equal(5, Assert.Throws<FlyteSharpException>(() => UvProject.Load(file)).Line);
    }

    [Theory]
    [InlineData("My_Group", "my-group")]
    [InlineData("a.b__c", "a-b-c")]
    public void NormalizeName_FollowsPep503(string name, string normalized) => Assert.Equal(normalized, UvProject.NormalizeName(name));
}
