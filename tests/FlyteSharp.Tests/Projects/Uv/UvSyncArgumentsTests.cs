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
}
