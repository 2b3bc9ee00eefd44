using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Tasks;
using FlyteSharp.Tests.Images;

namespace FlyteSharp.Tests.Execution.Python;

/// <summary>Tasks in uv workspace members, run locally from the bundle with root_dir at the workspace root.</summary>
public class WorkspaceRunTests : IDisposable
{
    private readonly FlyteSharp.Tests.Execution.RunFixture _fixture = new();
    private readonly ProjectTree _tree = new();

    public void Dispose()
    {
        _tree.Dispose();
        _fixture.Dispose();
    }

    [Fact]
    public async Task Run_TaskInFlatMemberCallingSrcLayoutMember_ImportsBothFromTheBundle()
    {
        var pyproject = _tree.WriteUvWorkspace();
        var env = new TaskEnvironment("ws", Image.FromDebianBase().WithUvProject(pyproject).WithCodeBundle());
        var go = env.PythonTask<int, int>("tools_pkg.run:go");

        var run = await _fixture.RuntimeAt(_tree.Path("uvws")).Run(go, 20, _fixture.Options());

        Assert.Equal(41, await run.GetOutputAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Run_RootDirIsTheWorkspaceRoot_MembersImportEvenWithoutAUvLayer()
    {
        _tree.WriteUvWorkspace();
        var env = new TaskEnvironment("ws", Image.FromDebianBase().WithCodeBundle());
        var go = env.PythonTask<int, int>("tools_pkg.run:go");

        var run = await _fixture.RuntimeAt(_tree.Path("uvws")).Run(go, 1, _fixture.Options());

        Assert.Equal(3, await run.GetOutputAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public void ImportPaths_ImageLayerAndRootDirWorkspace_AreUnitedWithoutDuplicates()
    {
        var pyproject = _tree.WriteUvWorkspace();
        var image = Image.FromDebianBase().WithUvProject(pyproject);
        Assert.Equal(["src", "packages/core/src", "packages/tools"], FlyteSharp.Execution.Python.PythonImportPaths.For(image, _tree.Path("uvws")));
        Assert.Equal(["packages/core/src", "packages/tools"], FlyteSharp.Execution.Python.PythonImportPaths.For(Image.FromDebianBase(), _tree.Path("uvws")).Skip(1));
        Assert.Empty(FlyteSharp.Execution.Python.PythonImportPaths.For(Image.FromDebianBase(), _tree.Path("uvws/packages")));
    }

    [Fact]
    public async Task Run_RootDirInsideOneMember_HintSaysWorkspaceRootNotTheMember()
    {
        var pyproject = _tree.WriteUvWorkspace();
        var env = new TaskEnvironment("ws", Image.FromDebianBase().WithUvProject(pyproject));
        var go = env.PythonTask<int, int>("tools_pkg.run:go");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => _fixture.RuntimeAt(_tree.Path("uvws/packages/core/src")).Run(go, 20, _fixture.Options()));

        Assert.Contains($"set root_dir to the workspace root {_tree.Path("uvws")}", ex.Fix);
    }

    [Fact]
    public async Task Run_MemberCodeRaises_TracebackNamesFileRelativeToRootDir()
    {
        var pyproject = _tree.WriteUvWorkspace();
        _tree.Write("uvws/packages/core/src/core_lib/__init__.py", "def double(x):\n    raise ValueError(f'cannot double {x}')\n");
        var env = new TaskEnvironment("ws", Image.FromDebianBase().WithUvProject(pyproject));
        var go = env.PythonTask<int, int>("tools_pkg.run:go");

        var run = await _fixture.RuntimeAt(_tree.Path("uvws")).Run(go, 3, _fixture.Options());
        var ex = await Assert.ThrowsAsync<PythonTaskException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));

        Assert.Contains("File \"packages/core/src/core_lib/__init__.py\", line 2, in double", ex.PythonTraceback);
        Assert.Contains("File \"packages/tools/tools_pkg/run.py\", line 4, in go", ex.PythonTraceback);
        Assert.DoesNotContain("sandboxes", ex.PythonTraceback);
    }
}
