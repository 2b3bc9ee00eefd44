using FlyteSharp.Building;

namespace FlyteSharp.Tests.Building;

public class PodmanBuilderTests
{
    [Fact]
    public void BuildArguments_PathWithSpaces_PassesEachValueAsOneArgument()
    {
        var request = new ImageBuildRequest("/tmp/my ctx", "/tmp/my ctx/Dockerfile", "localhost:5000/app:abc", Push: true);

        Assert.Equal(
            ["build", "--layers", "--file", "/tmp/my ctx/Dockerfile", "--tag", "localhost:5000/app:abc", "/tmp/my ctx"],
            PodmanBuilder.BuildArguments(request));
    }

    [Theory]
    [InlineData(true, new[] { "push", "--tls-verify=false", "localhost:5000/app:abc" })]
    [InlineData(false, new[] { "push", "localhost:5000/app:abc" })]
    public void PushArguments_InsecureRegistry_DisablesTlsVerifyOnlyThen(bool insecure, string[] expected)
    {
        var request = new ImageBuildRequest("/c", "/c/Dockerfile", "localhost:5000/app:abc", Push: true, InsecureRegistry: insecure);

        Assert.Equal(expected, PodmanBuilder.PushArguments(request));
    }

    [Theory]
    [InlineData("STEP 3/7: RUN uv sync --locked", "STEP 3/7: RUN uv sync --locked")]
    [InlineData("[2/2] STEP 1/4: FROM base AS final  ", "[2/2] STEP 1/4: FROM base AS final")]
    [InlineData("--> Using cache 9a10ad3abaf", null)]
    [InlineData("COMMIT localhost:5000/app:abc", null)]
    [InlineData("  STEP 3/7: indented output of a RUN", null)]
    [InlineData("STEP x/7: not a step", null)]
    public void StepOf_BuildOutputLine_OnlyStepHeadersAreSteps(string line, string? expected) =>
        Assert.Equal(expected, PodmanBuilder.StepOf(line));
}
