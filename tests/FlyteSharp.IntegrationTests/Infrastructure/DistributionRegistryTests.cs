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
}
