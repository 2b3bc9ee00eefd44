using FlyteSharp.Projects.Uv;
using FlyteSharp.Tests.Images;

namespace FlyteSharp.Tests.Projects.Uv;

public sealed class UvWorkspaceTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Load_Workspace_ReadsMembersLayoutsAndSkipsExcluded()
    {
        var workspace = UvWorkspace.Load(UvProject.Load(_tree.WriteUvWorkspace()));
        Assert.Equal(["ws-root", "core", "tools"], workspace.Packages.Select(p => p.Name));
        Assert.True(workspace.Packages[0].IsRoot);
        Assert.True(workspace.Find("core")!.IsSrcLayout);
        Assert.False(workspace.Find("Tools")!.IsSrcLayout);
        Assert.Equal(["core", "tools", "ws-root"], workspace.PackageNames);
    }

    [Fact]
    public void ImportPaths_RootDirAtWorkspaceRoot_ListsEveryImportRoot()
    {
        var workspace = UvWorkspace.Load(UvProject.Load(_tree.WriteUvWorkspace()));
        Assert.Equal(["src", "packages/core/src", "packages/tools"], workspace.ImportPaths(_tree.Path("uvws")));
    }

    [Fact]
    public void ImportPaths_RootDirInsideOneMember_ListsOnlyWhatIsUnderIt()
    {
        var workspace = UvWorkspace.Load(UvProject.Load(_tree.WriteUvWorkspace()));
        Assert.Equal(["src"], workspace.ImportPaths(_tree.Path("uvws/packages/core")));
        Assert.Empty(workspace.ImportPaths(_tree.Path("uvws/packages/core/src")));
    }

    [Fact]
    public void Load_GlobMatchesNothing_ThrowsWithLine()
    {
        var file = _tree.Write("w/pyproject.toml", "[project]\nname = \"w\"\n\n[tool.uv.workspace]\nmembers = [\n  \"libs/*\",\n]\n");
        var ex = Assert.Throws<FlyteSharpException>(() => UvWorkspace.Load(UvProject.Load(file)));
        Assert.Equal((file, 6), (ex.File, ex.Line));
        Assert.Contains("'libs/*' matches no directory", ex.Reason);
        Assert.NotNull(ex.Fix);
    }

    [Fact]
    public void Load_MemberWithoutPyproject_Throws()
    {
        var file = _tree.Write("w/pyproject.toml", "[project]\nname = \"w\"\n\n[tool.uv.workspace]\nmembers = [\"libs/*\"]\n");
        _tree.Write("w/libs/a/pyproject.toml", "[project]\nname = \"a\"\n");
        _tree.Write("w/libs/b/b.py", "");
        var ex = Assert.Throws<FlyteSharpException>(() => UvWorkspace.Load(UvProject.Load(file)));
        Assert.Equal((file, 5), (ex.File, ex.Line));
        Assert.Contains("'libs/b' has no pyproject.toml", ex.Reason);
        Assert.Contains("exclude", ex.Fix);
    }

    [Fact]
    public void Load_MemberOutsideRoot_Throws()
    {
        var file = _tree.Write("w/pyproject.toml", "[project]\nname = \"w\"\n\n[tool.uv.workspace]\nmembers = [\"../elsewhere\"]\n");
        _tree.Write("elsewhere/pyproject.toml", "[project]\nname = \"e\"\n");
        var ex = Assert.Throws<FlyteSharpException>(() => UvWorkspace.Load(UvProject.Load(file)));
        Assert.Equal((file, 5), (ex.File, ex.Line));
        Assert.Contains("outside the workspace root", ex.Reason);
    }

    [Fact]
    public void Load_WorkspaceSourceNamingNoMember_ThrowsAtTheSourceLine()
    {
        _tree.WriteUvWorkspace();
        var tools = _tree.Write("uvws/packages/tools/pyproject.toml", "[project]\nname = \"tools\"\ndependencies = [\"core\", \"helpers\"]\n\n[tool.uv.sources]\ncore = { workspace = true }\nhelpers = { workspace = true }\n");
        var ex = Assert.Throws<FlyteSharpException>(() => UvWorkspace.Load(UvProject.Load(_tree.Path("uvws/pyproject.toml"))));
        Assert.Equal((tools, 7), (ex.File, ex.Line));
        Assert.Contains("'helpers'", ex.Reason);
        Assert.Contains("members: core, tools", ex.Reason);
    }
}
