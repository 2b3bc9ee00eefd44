using FlyteSharp.Projects;

namespace FlyteSharp.Tests.Projects;

public class SourceLocationTests
{
    [Fact]
    public void Directory_IsFolderOfThisFile() =>
        Assert.True(File.Exists(Path.Combine(SourceLocation.Directory(), "SourceLocationTests.cs")));

    [Fact]
    public void Combine_RelativePath_ResolvesAgainstThisFile() =>
        Assert.Equal(Path.GetFullPath(Path.Combine(SourceLocation.Directory(), "..", "Projects")), SourceLocation.Combine("../Projects"));

    [Fact]
    public void File_IsThisFile() => Assert.EndsWith("SourceLocationTests.cs", SourceLocation.File());
}
