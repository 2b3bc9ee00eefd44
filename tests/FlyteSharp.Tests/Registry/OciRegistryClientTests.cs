using FlyteSharp.Configuration;
using FlyteSharp.Registry;

namespace FlyteSharp.Tests.Registry;

/// <summary>Scheme selection; the HTTP behaviour is tested against the real registry in the integration tests.</summary>
public class OciRegistryClientTests
{
    [Theory]
    [InlineData("127.0.0.1:41000", true)]
    [InlineData("localhost:5000", true)]
    [InlineData("registry.internal:5000", true)]
    [InlineData("ghcr.io", false)]
    public void IsInsecure_LoopbackOrConfigured_UsesHttp(string host, bool insecure)
    {
        var config = new FlyteConfig { InsecureRegistries = ["registry.internal:5000"] };
        Assert.Equal(insecure, OciRegistryClient.IsInsecure(host, config));
    }
}
