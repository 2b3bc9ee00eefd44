using FlyteSharp.Controller;

namespace FlyteSharp.Tests.Controller;

public class ControllerAddressTests
{
    [Fact]
    public void Parse_UnixSocket_KeepsThePath()
    {
        var address = ControllerAddress.Parse("unix:/run/flytesharp/controller.sock");

        Assert.Equal("/run/flytesharp/controller.sock", address.SocketPath);
    }

    [Fact]
    public void Parse_HttpHostAndPort_IsTcp()
    {
        var address = ControllerAddress.Parse("http://10.0.0.5:7443");

        Assert.Null(address.SocketPath);
        Assert.Equal(new Uri("http://10.0.0.5:7443/"), address.BaseUri);
    }

    [Theory]
    [InlineData("unix:relative.sock")]
    [InlineData("unix:")]
    [InlineData("https://host:7443")]
    [InlineData("http://host")]
    [InlineData("http://host:7443/path")]
    [InlineData("/run/flytesharp/controller.sock")]
    public void Parse_AnythingElse_SaysWhatFormsThereAre(string text)
    {
        var error = Assert.Throws<FlyteSharpException>(() => ControllerAddress.Parse(text));

        Assert.Contains("neither unix:/absolute/path nor http://host:port", error.Reason, StringComparison.Ordinal);
        Assert.Contains("--controller unix:/run/flytesharp/controller.sock", error.Fix, StringComparison.Ordinal);
    }
}
