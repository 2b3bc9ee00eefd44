using System.Net;

namespace FlyteSharp.IntegrationTests.Infrastructure;

public class DistributionRegistryTests(DistributionRegistry registry)
{
    [Fact]
    public async Task InitializeAsync_Started_AnswersV2OnLoopback()
    {
        Assert.StartsWith("127.0.0.1:", registry.Host);
        using var http = new HttpClient();
        using var response = await http.GetAsync($"{registry.BaseUrl}/v2/", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("registry/2.0", string.Join(",", response.Headers.GetValues("Docker-Distribution-API-Version")));
    }

    [Fact]
    public async Task RemoveImagesAsync_TaggedImagesUnderPrefix_RemovesThemAndKeepsBaseImage()
    {
        var prefix = $"{registry.Host}/flytesharp-cleanup-{Guid.NewGuid():N}/";
        string[] tagged = [prefix + "a:1", prefix + "b:2"];
        foreach (var image in tagged)
        {
            var (code, output) = await Podman.RunAsync("tag", BaseImage.Reference, image);
            Assert.True(code == 0, output);
        }

        var messages = new List<string>();
        var count = await DistributionRegistry.RemoveImagesAsync(prefix, messages.Add);

        Assert.Equal(2, count);
        Assert.Contains(messages, m => m.Contains("removed 2 image(s)", StringComparison.Ordinal));
        foreach (var image in tagged)
        {
            Assert.False(await Podman.ImageExistsAsync(image), image);
        }

        Assert.True(await Podman.ImageExistsAsync(BaseImage.Reference));
    }
}
