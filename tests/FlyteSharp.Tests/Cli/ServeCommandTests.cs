using FlyteSharp.Cli;
using FlyteSharp.Configuration;

namespace FlyteSharp.Tests.Cli;

public class ServeCommandTests
{
    [Fact]
    public void Warning_PortOtherThanConsoleUrl_SaysRunUrlsDoNotAnswerAndHowToMatch()
    {
        var settings = new FlyteConfig { ConsoleUrl = "http://localhost:8177", SourceFile = "/p/flytesharp.toml" };

        var warning = ServeCommand.Warning(ServeCommand.ConsoleUrl(settings), 9000, settings);

        Assert.Contains("run URLs use console_url http://localhost:8177 (/p/flytesharp.toml), which is not this console (port 9000)", warning);
        Assert.Contains("console_url = \"http://localhost:9000\"", warning);
    }

    [Theory]
    [InlineData("http://localhost:8177")]
    [InlineData("http://127.0.0.1:8177")]
    public void Warning_SamePortOnLoopback_None(string url) =>
        Assert.Null(ServeCommand.Warning(new Uri(url), 8177, new FlyteConfig { ConsoleUrl = url }));

    [Fact]
    public void Warning_NonLoopbackHost_Warns() =>
        Assert.Contains("is not this machine's loopback", ServeCommand.Warning(new Uri("http://runs.example.com:8177"), 8177, new FlyteConfig()));

    [Fact]
    public void ConsoleUrl_NotHttp_ThrowsNamingSetting()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => ServeCommand.ConsoleUrl(new FlyteConfig { ConsoleUrl = "localhost:8177" }));

        Assert.Contains("console_url 'localhost:8177' is not an http:// URL", ex.Message);
    }
}
