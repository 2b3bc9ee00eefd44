using FlyteSharp.Projects.Uv;
using FlyteSharp.Tests.Images;

namespace FlyteSharp.Tests.Projects.Uv;

public sealed class UvSyncArgumentsTests : IDisposable
{
    private readonly ProjectTree _tree = new();
    private readonly UvProject _project;

    public UvSyncArgumentsTests() => _project = UvProject.Load(_tree.WriteWorkspace());

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData("--only-group etl", "etl")]
    [InlineData("--only-group=ml", "ml")]
    [InlineData("--only-group etl --group ml", "etl,ml")]
    [InlineData("--all-groups --no-group dev", "etl,ml")]
    [InlineData("", "dev")]
    [InlineData("--no-dev", "")]
    public void SelectedGroups_Flags_SelectGroups(string args, string expected) =>
        Assert.Equal(expected, string.Join(',', UvSyncArguments.Parse(args, _project).SelectedGroups(_project)));

    [Theory]
    [InlineData("--only-group nope", "does not define")]
    [InlineData("--group ETLx", "does not define")]
    [InlineData("--only-group", "needs a group name")]
    [InlineData("--only-group etl --no-group etl", "both includes")]
    [InlineData("--group ml --no-group=ml", "both includes")]
    [InlineData("--all-groups --only-group etl", "--all-groups")]
    [InlineData("--no-dev --only-dev", "--no-dev")]
    [InlineData("--only-group 'etl", "unbalanced")]
    public void Parse_BadFlags_Throws(string args, string message)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => UvSyncArguments.Parse(args, _project));
        Assert.Contains(message, ex.Message);
        Assert.Equal(_project.File, ex.File);
    }

    [Fact]
    public void Parse_GroupNameSpelledDifferently_IsNormalized() =>
        Assert.Equal([("--only-group", "etl")], UvSyncArguments.Parse("--only-group ETL", _project).Groups);

    [Fact]
    public void Parse_QuotedToken_StaysOneToken() =>
        Assert.Equal(["--extra-index-url", "a b"], UvSyncArguments.Parse("--extra-index-url 'a b'", _project).Tokens);

    /// <summary>Every combination uv refuses (or FlyteSharp cannot honour) is an error before anything is rendered.</summary>
    [Theory]
    [InlineData("--locked --frozen", "--locked with --frozen")]
    [InlineData("--frozen --locked", "--locked with --frozen")]
    [InlineData("--only-group etl --no-group etl", "both includes")]
    [InlineData("--group etl --no-group etl", "both includes")]
    [InlineData("--all-groups --only-group etl", "--all-groups with --only-group")]
    [InlineData("--all-groups --only-dev", "--all-groups with --only-dev")]
    [InlineData("--only-dev --only-group etl", "--only-dev with --only-group")]
    [InlineData("--no-dev --only-dev", "--no-dev with --only-dev")]
    [InlineData("--exact --inexact", "--exact with --inexact")]
    [InlineData("--exact", "FlyteSharp cannot honour")]
    [InlineData("--editable", "FlyteSharp cannot honour")]
    [InlineData("--editable --no-editable", "--editable with --no-editable")]
    [InlineData("--package workspace-app --all-packages", "--package with --all-packages")]
    [InlineData("--package nope", "not a package of the workspace (packages: workspace-app)")]
    [InlineData("--package", "needs a package name")]
    public void Parse_ConflictingFlags_Throws(string args, string message)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => UvSyncArguments.Parse(args, _project));
        Assert.Contains(message, ex.Message);
        Assert.Equal(_project.File, ex.File);
        Assert.NotNull(ex.Fix);
    }

    [Theory]
    [InlineData("--locked")]
    [InlineData("--frozen")]
    public void Parse_LockFlagWithoutLock_Throws(string args) =>
        Assert.Contains("no uv.lock", Assert.Throws<FlyteSharpException>(() => UvSyncArguments.Parse(args, UvWorkspace.Load(_project), hasLock: false)).Message);

    [Fact]
    public void Parse_NoInstallProjectWithInstallProject_Throws() =>
        Assert.Contains("InstallProject", Assert.Throws<FlyteSharpException>(() => UvSyncArguments.Parse("--no-install-project", UvWorkspace.Load(_project), installProject: true)).Message);

    /// <summary>How the uv sync line renders: FlyteSharp's flags once each, --frozen instead of --locked, --inexact always.</summary>
    [Theory]
    [InlineData("", true, true, "uv sync --locked --no-install-project --no-editable --inexact")]
    [InlineData("", false, true, "uv sync --no-install-project --no-editable --inexact")]
    [InlineData("", true, false, "uv sync --locked --no-editable --inexact")]
    [InlineData("--frozen", true, true, "uv sync --no-install-project --no-editable --inexact --frozen")]
    [InlineData("--locked --no-install-project", true, true, "uv sync --locked --no-install-project --no-editable --inexact")]
    [InlineData("--inexact --no-editable --only-group etl", true, true, "uv sync --locked --no-install-project --no-editable --inexact --only-group etl")]
    public void Command_SingleProject_RendersEachFlagOnce(string args, bool locked, bool dependenciesOnly, string expected) =>
        Assert.Equal(expected, string.Join(' ', UvSyncArguments.Parse(args, UvWorkspace.Load(_project), hasLock: locked).Command(locked, dependenciesOnly, null, [])));

    [Theory]
    [InlineData("", true, "uv sync --locked --all-packages --no-install-workspace --no-editable --inexact")]
    [InlineData("", false, "uv sync --locked --all-packages --no-editable --inexact")]
    [InlineData("--package Core --only-group etl", true, "uv sync --locked --no-install-workspace --no-editable --inexact --package Core --only-group etl")]
    [InlineData("--all-packages --only-group etl", true, "uv sync --locked --no-install-workspace --no-editable --inexact --all-packages --only-group etl")]
    [InlineData("--only-group dev", true, "uv sync --locked --all-packages --no-install-workspace --no-editable --inexact --only-group dev")]
    public void Command_Workspace_SyncsEveryMemberUnlessOneIsPicked(string args, bool dependenciesOnly, string expected)
    {
        var workspace = UvWorkspace.Load(UvProject.Load(_tree.WriteUvWorkspace()));
        Assert.Equal(expected, string.Join(' ', UvSyncArguments.Parse(args, workspace).Command(true, dependenciesOnly, null, [])));
    }

    [Fact]
    public void Parse_WorkspaceGroupOfAnotherPackage_ThrowsListingThatPackagesGroups()
    {
        var workspace = UvWorkspace.Load(UvProject.Load(_tree.WriteUvWorkspace()));
        var ex = Assert.Throws<FlyteSharpException>(() => UvSyncArguments.Parse("--package tools --only-group etl", workspace));
        Assert.Contains("package 'tools' does not define", ex.Message);
        Assert.Equal(_tree.Path("uvws/packages/tools/pyproject.toml"), ex.File);
    }

    [Fact]
    public void Parse_WorkspaceUnknownPackage_ListsMembers()
    {
        var workspace = UvWorkspace.Load(UvProject.Load(_tree.WriteUvWorkspace()));
        var ex = Assert.Throws<FlyteSharpException>(() => UvSyncArguments.Parse("--package cor", workspace));
        Assert.Contains("(packages: core, tools, ws-root)", ex.Message);
    }
}
