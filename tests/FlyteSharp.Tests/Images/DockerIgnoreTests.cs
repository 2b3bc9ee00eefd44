using FlyteSharp.Files;
using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public class DockerIgnoreTests
{
    [Theory]
    [InlineData("*.tmp", "a.tmp", true)]
    [InlineData("*.tmp", "dir/a.tmp", false)] // '*' stays within the root level
    [InlineData("**/*.tmp", "dir/sub/a.tmp", true)]
    [InlineData("data", "data/x/y.csv", true)] // a matched directory excludes its contents
    [InlineData("/data", "data/y.csv", true)] // leading slash is the root
    [InlineData("docs/?.md", "docs/a.md", true)]
    [InlineData("docs/?.md", "docs/ab.md", false)]
    [InlineData("[ab].py", "a.py", true)]
    [InlineData("[ab].py", "c.py", false)]
    public void IsExcluded_Pattern_FollowsDockerSemantics(string pattern, string path, bool excluded) =>
        Assert.Equal(excluded, DockerIgnore.Parse([pattern]).IsExcluded(path));

    [Fact]
    public void IsExcluded_NegationAfterExclusion_ReIncludes()
    {
        var ignore = DockerIgnore.Parse(["*.md", "!README.md", "# comment", ""]);
        Assert.True(ignore.IsExcluded("CHANGES.md"));
        Assert.False(ignore.IsExcluded("README.md"));
    }

    [Fact]
    public void IsExcluded_LastMatchingRuleWins()
    {
        var ignore = DockerIgnore.Parse(["!keep.txt", "*.txt"]);
        Assert.True(ignore.IsExcluded("keep.txt"));
    }

    [Fact]
    public void StandardPatterns_ExcludeVcsVenvAndCaches()
    {
        var ignore = DockerIgnore.Parse(FileSelector.StandardIgnores);
        Assert.True(ignore.IsExcluded(".git/config"));
        Assert.True(ignore.IsExcluded("pkg/__pycache__/m.cpython-311.pyc"));
        Assert.True(ignore.IsExcluded("dotnet/bin/Debug/x.dll"));
        Assert.False(ignore.IsExcluded("src/pkg/module.py"));
    }

    [Theory]
    [InlineData(".env")]
    [InlineData("sub/.env.local")]
    [InlineData("certs/tls.key")]
    [InlineData("certs/tls.pem")]
    [InlineData("id_ed25519")]
    [InlineData(".aws/credentials")]
    [InlineData("home/.ssh/id_rsa")]
    [InlineData(".docker/config.json")]
    [InlineData(".pypirc")]
    public void StandardPatterns_ExcludeCredentialFiles(string path) =>
        Assert.True(DockerIgnore.Parse(FileSelector.StandardIgnores).IsExcluded(path));

    [Fact]
    public void StandardPatterns_CredentialCanBeReincludedByLaterRule()
    {
        var ignore = DockerIgnore.Parse(FileSelector.StandardIgnores).Then(DockerIgnore.Parse(["!.env"]));
        Assert.False(ignore.IsExcluded(".env"));
        Assert.False(DockerIgnore.Parse(FileSelector.StandardIgnores).IsExcluded("environment.py"));
    }

    [Fact]
    public void Parse_UnterminatedClass_ThrowsWithFileAndLine()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => DockerIgnore.Parse(["ok", "[abc"], "/p/.dockerignore"));
        Assert.Equal(2, ex.Line);
        Assert.Equal("/p/.dockerignore", ex.File);
    }
}
