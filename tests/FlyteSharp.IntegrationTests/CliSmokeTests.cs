using FlyteSharp.Cli;

namespace FlyteSharp.IntegrationTests;

public class CliSmokeTests
{
    [Fact]
    public async Task Version_PrintsToolName()
    {
        var output = new StringWriter();
        var code = await FlyteCli.RunAsync(["version"], output, new StringWriter(), TestContext.Current.CancellationToken);
        Assert.Equal(0, code);
        Assert.StartsWith("flytesharp ", output.ToString());
    }
}
