using FlyteSharp.Processes;

namespace FlyteSharp.Tests.Processes;

public class CliProcessTests
{
    [Fact]
    public async Task RunAsync_ArgumentWithSpacesAndQuotes_ReachesProgramUnchanged()
    {
        var lines = new List<string>();

        var result = await CliProcess.RunAsync("printf", ["%s|", "a b", "it's \"quoted\""], lines.Add, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.Succeeded);
        Assert.Equal("a b|it's \"quoted\"|", result.StandardOutput.TrimEnd());
        Assert.Single(lines);
    }

    [Fact]
    public async Task RunAsync_MissingProgram_ThrowsWithInstallHint()
    {
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() =>
            CliProcess.RunAsync("flytesharp-no-such-tool", [], cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("not installed", ex.Message);
    }

    [Fact]
    public async Task RunAsync_Cancelled_KillsTheProcess()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(200);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CliProcess.RunAsync("sleep", ["30"], cancellationToken: cts.Token));
    }
}
