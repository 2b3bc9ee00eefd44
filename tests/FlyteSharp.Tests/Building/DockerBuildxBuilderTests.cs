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
}
