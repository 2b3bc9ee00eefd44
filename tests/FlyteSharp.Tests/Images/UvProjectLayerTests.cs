using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public sealed class UvProjectLayerTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Resolve_WorkspaceDependenciesOnly_ContextHasEveryPyprojectAndTheLockButNoCode()
    {
        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithUvProject(_tree.WriteUvWorkspace()));
        var uvFiles = resolved.ContextFiles.Where(f => f.Contains("-uv/", StringComparison.Ordinal)).Select(f => f[(f.IndexOf("-uv/", StringComparison.Ordinal) + 4)..]);
        Assert.Equal(["packages/core/pyproject.toml", "packages/tools/pyproject.toml", "pyproject.toml", "uv.lock"], uvFiles.Order(StringComparer.Ordinal));
        Assert.Contains("uv sync --locked --all-packages --no-install-workspace --no-editable --inexact", resolved.Dockerfile);
        Assert.Contains("# workspace members: core, tools", resolved.Dockerfile);
    }

    [Fact]
    public void Resolve_MemberCodeEdited_KeepsTag_MemberPyprojectEdited_MovesIt()
    {
        var image = Image.FromDebianBase().WithUvProject(_tree.WriteUvWorkspace());
        var before = ProjectTree.Resolve(image).Tag;
        _tree.Write("uvws/packages/tools/tools_pkg/run.py", "def go(x: int) -> int:\n    return x\n");
        _tree.Write("uvws/packages/core/src/core_lib/new_module.py", "X = 1\n");
        Assert.Equal(before, ProjectTree.Resolve(image).Tag);

        _tree.Write("uvws/packages/tools/pyproject.toml", "[project]\nname = \"tools\"\nversion = \"0.2.0\"\ndependencies = [\"core\"]\n\n[tool.uv.sources]\ncore = { workspace = true }\n");
        Assert.NotEqual(before, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void Resolve_WorkspaceInstallProject_CopiesMembersAndInstallsThemNonEditable()
    {
        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithUvProject(_tree.WriteUvWorkspace(), installMode: UvInstallMode.InstallProject));
        Assert.Contains(resolved.ContextFiles, f => f.EndsWith("-uv/packages/tools/tools_pkg/run.py", StringComparison.Ordinal));
        Assert.Contains(resolved.ContextFiles, f => f.EndsWith("-uv/packages/core/src/core_lib/__init__.py", StringComparison.Ordinal));
        Assert.Contains("uv sync --locked --all-packages --no-editable --inexact\n", resolved.Dockerfile + "\n");
        Assert.DoesNotContain("--no-install", resolved.Dockerfile);
    }

    [Fact]
    public void Resolve_PackageFlag_SyncsThatMemberOnly()
    {
        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithUvProject(_tree.WriteUvWorkspace(), extraArgs: "--package core --only-group etl"));
        Assert.Contains("uv sync --locked --no-install-workspace --no-editable --inexact --package core --only-group etl", resolved.Dockerfile);
        Assert.DoesNotContain("--all-packages", resolved.Dockerfile);
    }

    [Fact]
    public void WithUvProject_ConflictingFlags_ThrowsBeforeRendering()
    {
        var file = _tree.WriteUvWorkspace();
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithUvProject(file, extraArgs: "--frozen --locked"));
        Assert.Contains("--locked with --frozen", ex.Message);
    }

    [Fact]
    public void Resolve_FrozenAndDuplicateFlags_RenderedOnce()
    {
        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace(), extraArgs: "--frozen --no-install-project --inexact"));
        Assert.Contains("uv sync --no-install-project --no-editable --inexact --frozen\n", resolved.Dockerfile + "\n");
        Assert.DoesNotContain("--locked", resolved.Dockerfile);
    }
}
