using System.Net;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Runs;

public class RunPageChromiumTests(RunsProjectFixture fixture) : IClassFixture<RunsProjectFixture>
{
    [Fact]
    public async Task RunUrl_OpenedInHeadlessChromium_ShowsActionsAndOutputs()
    {
        var config = FlyteConfig.Load(fixture.ConfigFile);
        var env = new TaskEnvironment("chromium", Image.FromDebianBase());
        var nap = env.PythonTask<int, double>("fixture.slow:nap");
        var pipeline = env.Task("page_pipeline", async (int n) =>
        {
            var values = await Task.WhenAll(Enumerable.Range(0, n).Select(i => nap.InvokeAsync(0)));
            Console.WriteLine("<b>not bold</b> & <script>alert(1)</script>");
            return new Dictionary<string, object> { ["sum"] = values.Sum(), ["label"] = "<b>not bold</b>" };
        });
        var run = await new FlyteRuntime(config).Run(pipeline, 3, new RunOptions { CancellationToken = TestContext.Current.CancellationToken });
        await run.GetOutputAsync(TestContext.Current.CancellationToken);
        await using var server = new RunConsoleServer(RunStore.Open(config.EffectiveRunDatabase), fixture.ConsolePort);
        server.Start();

        Assert.StartsWith($"http://localhost:{fixture.ConsolePort}/runs/", run.Url);
        var dom = await DumpDomAsync(run.Url);

        Assert.Contains($"<h1 id=\"run-name\">{run.Name}</h1>", dom);
        Assert.Contains(">succeeded<", dom);
        Assert.Equal(4, CountOccurrences(dom, "class=\"action\""));
        Assert.Contains("page_pipeline", dom);
        Assert.Equal(3, CountOccurrences(dom, ">└ fixture.slow:nap<"));
        Assert.Contains("{\"sum\":0,\"label\":\"\\u003Cb\\u003Enot bold\\u003C/b\\u003E\"}", dom);
        Assert.Contains("napping 0", dom);
        Assert.Contains("&lt;b&gt;not bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;", dom);
        Assert.DoesNotContain("<b>not bold</b>", dom);
        Assert.DoesNotContain("<script>", dom);
    }

    private static async Task<string> DumpDomAsync(string url)
    {
        var profile = Path.Combine(Path.GetTempPath(), "flytesharp-chromium-" + Guid.NewGuid().ToString("n"));
        try
        {
            var (code, stdout, stderr) = await ChildProcess.RunAsync("chromium",
                ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", "--dump-dom", url],
                timeout: TimeSpan.FromMinutes(2));
            Assert.True(code == 0, "chromium failed: " + stdout + stderr);
            return stdout + stderr;
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
