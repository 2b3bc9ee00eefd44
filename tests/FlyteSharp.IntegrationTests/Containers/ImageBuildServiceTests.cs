using FlyteSharp.Building;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;

namespace FlyteSharp.IntegrationTests.Containers;

public class ImageBuildServiceTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task BuildAsync_SharedTagThenRepeat_BuildsOnceThenSkips()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var image = Image.FromDebianBase("3.11").WithEnvVars(new Dictionary<string, string> { ["ROLE"] = project.Repository }).Resolve(new ImageResolveOptions(project.Config));
        var service = await ImageBuildServices.CreateAsync(project.Config, cancellationToken: ct);

        var first = await service.BuildAsync([ImageBuildTarget.From(image, "a"), ImageBuildTarget.From(image, "b")], cancellationToken: ct);
        var second = await service.BuildAsync([ImageBuildTarget.From(image, "a")], cancellationToken: ct);
        var forced = await service.BuildAsync([ImageBuildTarget.From(image, "a")], force: true, cancellationToken: ct);

        var built = Assert.Single(first);
        Assert.Equal((ImageBuildStatus.Built, image.Uri), (built.Status, built.ImageUri));
        Assert.Equal(["a", "b"], built.Environments);
        Assert.True(File.Exists(built.LogFile), "the builder's output was not captured");
        Assert.Contains("STEP", await File.ReadAllTextAsync(built.LogFile!, ct));
        Assert.Equal(ImageBuildStatus.SkippedExisting, Assert.Single(second).Status);
        Assert.Equal(ImageBuildStatus.Built, Assert.Single(forced).Status);
        Assert.True(await Podman.ImageExistsAsync(image.Uri));
    }

    [Fact]
    public async Task BuildAsync_RegistryUnreachable_FailsWithoutBuilding()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.Config = project.Config with { Registry = "127.0.0.1:9", InsecureRegistries = ["127.0.0.1:9"] };
        var image = Image.FromDebianBase("3.11").Resolve(new ImageResolveOptions(project.Config));
        var service = await ImageBuildServices.CreateAsync(project.Config, cancellationToken: ct);

        var result = Assert.Single(await service.BuildAsync([ImageBuildTarget.From(image, "a")], cancellationToken: ct));

        Assert.Equal(ImageBuildStatus.Failed, result.Status);
        Assert.Contains("127.0.0.1:9", result.Error);
        Assert.Null(result.LogFile); // nothing was built or pushed
        await Assert.ThrowsAsync<FlyteSharpException>(() => service.EnsureAsync([ImageBuildTarget.From(image, "a")], cancellationToken: ct));
    }
}
