using FlyteSharp.Building;

namespace FlyteSharp.Tests.Building;

// Docker's daemon cannot run on this kind of machine, so the buildx builder is checked through
// the exact argument lists it hands to the docker CLI.
public class DockerBuildxBuilderTests
{
    [Fact]
    public void BuildArguments_PushToInsecureRegistry_PushesInTheBuildWithInsecureOutput()
    {
        var request = new ImageBuildRequest("/ctx", "/ctx/Dockerfile", "localhost:5000/app:abc", Push: true, InsecureRegistry: true);

        Assert.Equal(
            ["buildx", "build", "--progress", "plain", "--file", "/ctx/Dockerfile", "--tag", "localhost:5000/app:abc",
             "--output", "type=image,name=localhost:5000/app:abc,push=true,registry.insecure=true", "/ctx"],
            DockerBuildxBuilder.BuildArguments(request));
    }

    [Fact]
    public void BuildArguments_NoRegistry_LoadsIntoTheDaemon()
    {
        var request = new ImageBuildRequest("/ctx", "/ctx/Dockerfile", "flytesharp:abc", Push: false);

        var arguments = DockerBuildxBuilder.BuildArguments(request);

        Assert.Contains("type=docker,name=flytesharp:abc", arguments);
        Assert.DoesNotContain(arguments, a => a.Contains("push=true", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("#5 [2/4] RUN uv sync --locked", "5", "STEP 2/4: RUN uv sync --locked")]
    [InlineData("#7 [stage-1 3/5] COPY src /app", "7", "STEP 3/5: COPY src /app")]
    [InlineData("#9 pushing layers 0.4s done", "9", "PUSH localhost:5000/app:abc")]
    [InlineData("#5 0.312 Resolved 12 packages", null, null)]
    [InlineData("#5 DONE 1.2s", null, null)]
    [InlineData("#1 [internal] load build definition from Dockerfile", null, null)]
    public void StepOf_PlainProgressLine_StepHeadersAndPushInPodmansWords(string line, string? vertex, string? step) =>
        Assert.Equal(vertex is null ? null : (vertex, step!), DockerBuildxBuilder.StepOf(line, "localhost:5000/app:abc"));
}
