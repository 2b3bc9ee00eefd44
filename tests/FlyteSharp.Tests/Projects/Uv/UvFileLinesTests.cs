using FlyteSharp.Projects.Uv;
using FlyteSharp.Tests.Images;

namespace FlyteSharp.Tests.Projects.Uv;

/// <summary>
/// Errors about pyproject.toml and uv.lock name the line the TOML reader recorded for the key or item, however the file
/// spells it: each case here is one where searching the text for the key found no line or the wrong one.
/// </summary>
public sealed class UvFileLinesTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void PathDependencies_SourceInAnInlineTable_NamesItsLine()
    {
        var file = _tree.Write("p/pyproject.toml", """
            [project]
            name = "p"

            [tool.uv]
            sources = { mylib = { path = "../missing" } }
            """);
        var ex = Assert.Throws<FlyteSharpException>(() => UvProject.Load(file).PathDependencies());
        Assert.Contains("'mylib'", ex.Reason);
        Assert.Equal((file, 5), (ex.File, ex.Line));
    }

    [Fact]
    public void PathDependencies_SourceAsItsOwnTable_NamesItsHeader()
    {
        var file = _tree.Write("p/pyproject.toml", """
            [project]
            name = "p"

            [tool.uv.sources.mylib]
            path = "../missing"
            """);
        var ex = Assert.Throws<FlyteSharpException>(() => UvProject.Load(file).PathDependencies());
        Assert.Equal((file, 4), (ex.File, ex.Line));
    }

    [Fact]
    public void PathDependencies_TableLookalikeInAMultiLineString_NamesTheRealKey()
    {
        var file = _tree.Write("p/pyproject.toml", """"
            [project]
            name = "p"
            description = """
            [tool.uv.sources]
            mylib = { path = "../elsewhere" }
            """

            [tool.uv.sources]
            mylib = { path = "../missing" }
            """");
        var ex = Assert.Throws<FlyteSharpException>(() => UvProject.Load(file).PathDependencies());
        Assert.Equal((file, 9), (ex.File, ex.Line));
    }

    [Fact]
    public void WorkspaceMemberDirectories_GlobAlsoListedInExclude_NamesTheMembersItem()
    {
        var file = _tree.Write("w/pyproject.toml", """
            [project]
            name = "w"

            [tool.uv.workspace]
            exclude = [
              "libs/*",
            ]
            members = [
              "apps/*",
              "libs/*",
            ]
            """);
        _tree.Write("w/apps/a/pyproject.toml", "[project]\nname = \"a\"\n");
        var ex = Assert.Throws<FlyteSharpException>(() => UvProject.Load(file).WorkspaceMemberDirectories());
        Assert.Contains("'libs/*' matches no directory", ex.Reason);
        Assert.Equal((file, 10), (ex.File, ex.Line));
    }

    [Fact]
    public void WorkspaceMemberDirectories_MembersKeyInAnEarlierTable_NamesTheWorkspaceKey()
    {
        var file = _tree.Write("w/pyproject.toml", """
            [project]
            name = "w"

            [tool.team]
            members = ["alice", "bob"]

            [tool.uv.workspace]
            members = ["libs/*"]
            """);
        _tree.Write("w/libs/a/pyproject.toml", "[project]\nname = \"a\"\n");
        _tree.Write("w/libs/b/b.py", "");
        var ex = Assert.Throws<FlyteSharpException>(() => UvProject.Load(file).WorkspaceMemberDirectories());
        Assert.Contains("'libs/b' has no pyproject.toml", ex.Reason);
        Assert.Equal((file, 8), (ex.File, ex.Line));
    }

    [Fact]
    public void Load_LockEntryWithoutNameAfterAnother_NamesALineOfThatEntry()
    {
        var file = _tree.Write("uv.lock", """
            version = 1
            revision = 3

            [[package]]
            name = "first"
            version = "1.0"

            [[package]]
            version = "2.0"
            source = { registry = "https://pypi.org/simple" }
            """);
        var ex = Assert.Throws<FlyteSharpException>(() => UvLock.Load(file));
        Assert.Contains("no name", ex.Reason);
        Assert.Equal((file, 9), (ex.File, ex.Line));
    }
}
