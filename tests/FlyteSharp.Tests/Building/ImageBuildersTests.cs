using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Processes;

namespace FlyteSharp.Tests.Building;

public class ImageBuildersTests
{
    [Theory]
    [InlineData(ImageBuilderKind.Podman, "podman")]
    [InlineData(ImageBuilderKind.Docker, "docker")]
    public async Task CreateAsync_NamedBuilder_ReturnsThatBuilder(ImageBuilderKind configured, string expected)
    {
        var builder = await ImageBuilders.CreateAsync(new FlyteConfig { Builder = configured }, TestContext.Current.CancellationToken);

        Assert.Equal(expected, builder.Name);
    }

    [Fact]
    public async Task DetectAsync_PodmanWorksHere_ChoosesPodman()
    {
        var builder = await ImageBuilders.DetectAsync(CliProcess.IsOnPath, TestContext.Current.CancellationToken);

        Assert.Equal("podman", builder.Name);
    }

    [Fact]
    public async Task DetectAsync_DockerWithoutDaemon_ExplainsTheDaemonIsUnreachable()
    {
        // Machines of this kind have the docker CLI but no daemon; podman is hidden from detection.
        Assert.SkipUnless(CliProcess.IsOnPath("docker"), "the docker CLI is not installed here");
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            ImageBuilders.DetectAsync(tool => tool == "docker" && CliProcess.IsOnPath("docker"), TestContext.Current.CancellationToken));

        Assert.Contains("daemon is not reachable", ex.Message);
    }

    [Fact]
    public async Task DetectAsync_NoBuilderOnPath_SaysWhatToInstall()
    {
        // A machine with neither podman nor docker installed.
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => ImageBuilders.DetectAsync(_ => false, TestContext.Current.CancellationToken));

        Assert.Contains("podman is not on PATH", ex.Message);
        Assert.Contains("docker is not on PATH", ex.Message);
        Assert.Contains("apt-get install podman", ex.Fix);
    }
}
