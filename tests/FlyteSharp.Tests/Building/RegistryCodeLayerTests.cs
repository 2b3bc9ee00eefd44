using FlyteSharp.Building;

namespace FlyteSharp.Tests.Building;

public class RegistryCodeLayerTests
{
    private const string Dependency = "FROM base\nRUN echo deps\nWORKDIR /root\n";

    [Fact]
    public void CodeInstruction_OnlyCommentAndCopyAdded_ReturnsTheCopyLine()
    {
        var full = Dependency + "# code bundle (full build)\nCOPY .flytesharp/layers/3-code/ /root/\n";

        Assert.Equal("COPY .flytesharp/layers/3-code/ /root/", RegistryCodeLayer.CodeInstruction(full, Dependency));
    }

    [Theory]
    [InlineData("RUN mkdir -p /root\n")]                                                // an empty code layer
    [InlineData("COPY .flytesharp/layers/3-code/ /root/\nENV A=1\n")]                     // a layer after the code
    [InlineData("COPY .flytesharp/layers/3-code/ /root/\nCOPY .flytesharp/layers/4-code/ /x/\n")]
    public void CodeInstruction_MoreThanOneCopyAdded_Null(string added) =>
        Assert.Null(RegistryCodeLayer.CodeInstruction(Dependency + added, Dependency));

    [Fact]
    public void CodeInstruction_DependencyDiffersBelowTheCode_Null() =>
        Assert.Null(RegistryCodeLayer.CodeInstruction("FROM base\nRUN echo other\nWORKDIR /root\nCOPY .flytesharp/layers/3-code/ /root/\n", Dependency));
}
