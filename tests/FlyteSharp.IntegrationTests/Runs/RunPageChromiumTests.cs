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
        Assert.Equal(4, CountOccurrences(dom, "<details class=\"action\""));
        Assert.Contains("page_pipeline", dom);
        Assert.Equal(3, CountOccurrences(dom, "<span class=\"task\">fixture.slow:nap</span>"));
        Assert.Contains("{\"sum\":0,\"label\":\"\\u003Cb\\u003Enot bold\\u003C/b\\u003E\"}", dom);
        Assert.Contains("napping 0", dom);
        Assert.Contains("&lt;b&gt;not bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;", dom);
        Assert.DoesNotContain("<b>not bold</b>", dom);
        Assert.DoesNotContain("<script>", dom);
    }

    [Fact]
    public async Task RunningRun_PageOpenInChromium_UpdatesInPlaceUntilDoneWithTimelineTreeAndLogs()
    {
        var ct = TestContext.Current.CancellationToken;
        var config = FlyteConfig.Load(fixture.ConfigFile);
        var gate = Path.Combine(fixture.Temp, "gate-" + Guid.NewGuid().ToString("n"));
        var env = new TaskEnvironment("chromium", Image.FromDebianBase());
        var wait = env.PythonTask<string, string>("fixture.gate:wait_for");
        var nap = env.PythonTask<int, double>("fixture.slow:nap");
        var pipeline = env.Task("live_pipeline", async (string path) =>
        {
            await nap.InvokeAsync(0);
            return await wait.InvokeAsync(path);
        });
        await using var server = new RunConsoleServer(RunStore.Open(config.EffectiveRunDatabase), fixture.ConsolePort);
        server.Start();
        var run = await new FlyteRuntime(config).Run(pipeline, gate, new RunOptions { CancellationToken = ct });
        await using var browser = await ChromeDriver.StartAsync();

        await browser.GoToAsync(run.Url);
        await browser.WaitForAsync("return Array.from(document.querySelectorAll(\"details[data-status='running'] .task\")).some(t => t.textContent === 'fixture.gate:wait_for') && document.getElementById('live').textContent.includes('napping 0');",
            TimeSpan.FromSeconds(30), "the finished child's log in place while its sibling runs");
        Assert.Equal("running", (await browser.RunAsync("return document.getElementById('run-status').className;"))!.GetValue<string>());
        await browser.RunAsync("window.__sameDocument = 'yes'; Array.from(document.querySelectorAll(\"details[data-status='running']\")).pop().open = true; return null;");
        await ScreenshotAsync(browser, "console-running.png");
        await File.WriteAllTextAsync(gate, "", ct);
        await run.WaitAsync(ct);
        await browser.WaitForAsync("return document.getElementById('run-status').className === 'succeeded';", TimeSpan.FromSeconds(30), "the status to turn succeeded");

        Assert.Equal("yes", (await browser.RunAsync("return window.__sameDocument;"))!.GetValue<string>()); // no reload
        Assert.True(int.Parse((await browser.RunAsync("return document.body.dataset.liveUpdates;"))!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.True((await browser.RunAsync("return document.querySelector(\"details[open][data-status='succeeded']\") !== null;"))!.GetValue<bool>(),
            "the action opened before the update is still open");
        Assert.Equal(3, (await browser.RunAsync("return document.querySelectorAll('#timeline g.row').length;"))!.GetValue<int>());
        Assert.Equal(3, (await browser.RunAsync("return document.querySelectorAll('#timeline rect.bar.succeeded').length;"))!.GetValue<int>());
        Assert.True((await browser.RunAsync("return document.querySelector('#timeline rect.bar').getBBox().width > 0;"))!.GetValue<bool>());
        Assert.Equal(3, (await browser.RunAsync("return document.querySelectorAll('#actions details.action').length;"))!.GetValue<int>());
        Assert.Equal(2, (await browser.RunAsync("return document.querySelectorAll('#actions > li > ul > li').length;"))!.GetValue<int>());
        Assert.Contains("gate opened", (await browser.RunAsync("return document.getElementById('live').textContent;"))!.GetValue<string>());
        Assert.Contains("in-process", (await browser.RunAsync("return document.querySelector('#actions .host').textContent;"))!.GetValue<string>());
        Assert.Contains("local python", (await browser.RunAsync("return document.querySelectorAll('#actions .host')[1].textContent;"))!.GetValue<string>());
        Assert.Equal("rgb(26, 127, 55)", (await browser.RunAsync("return getComputedStyle(document.getElementById('run-status')).color;"))!.GetValue<string>()); // the shipped stylesheet applied under the CSP
        await ScreenshotAsync(browser, "console-run.png");
        await browser.GoToAsync($"http://localhost:{fixture.ConsolePort}/runs");
        Assert.Contains(run.Name, (await browser.RunAsync("return document.getElementById('runs').textContent;"))!.GetValue<string>());
        await ScreenshotAsync(browser, "console-runs.png");
    }

    [Fact]
    public async Task FailedRunWithHostileText_ErrorAndTracebackInPlaceNothingExecuted()
    {
        var ct = TestContext.Current.CancellationToken;
        var config = FlyteConfig.Load(fixture.ConfigFile);
        var env = new TaskEnvironment("chromium", Image.FromDebianBase());
        var explode = env.PythonTask<string, string>("fixture.gate:explode");
        const string hostile = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>";
        await using var server = new RunConsoleServer(RunStore.Open(config.EffectiveRunDatabase), fixture.ConsolePort);
        server.Start();
        var run = await new FlyteRuntime(config).Run(explode, hostile, new RunOptions { CancellationToken = ct });
        await run.WaitAsync(ct);
        await using var browser = await ChromeDriver.StartAsync();

        await browser.GoToAsync(run.Url);

        Assert.Null(await browser.RunAsync("return window.__pwned === undefined ? null : window.__pwned;"));
        Assert.Equal(0, (await browser.RunAsync("return document.querySelectorAll('img, #live script').length;"))!.GetValue<int>());
        var failed = (await browser.RunAsync("return document.querySelector(\"details[data-status='failed']\").open;"))!.GetValue<bool>();
        Assert.True(failed, "the failed action is expanded");
        var traceback = (await browser.RunAsync("return document.querySelector(\"details[data-status='failed'] pre.traceback\").innerText;"))!.GetValue<string>();
        Assert.Contains("fixture/gate.py", traceback);
        Assert.Contains("ValueError", (await browser.RunAsync("return document.getElementById('run-error').innerText;"))!.GetValue<string>());
        Assert.Contains("about to fail: " + hostile, (await browser.RunAsync("return document.querySelector('pre.log').innerText;"))!.GetValue<string>());
    }

    [Fact]
    public async Task RunList_FilterFormInChromium_ShowsOnlyMatchingRuns()
    {
        var ct = TestContext.Current.CancellationToken;
        var config = FlyteConfig.Load(fixture.ConfigFile);
        var env = new TaskEnvironment("chromium", Image.FromDebianBase());
        var tag = "f" + Guid.NewGuid().ToString("n")[..6];
        var ok = env.Task(tag + "_ok", (int n) => Task.FromResult(n));
        var bad = env.Task(tag + "_bad", (int n) => n > 0 ? throw new InvalidOperationException("no") : Task.FromResult(n));
        foreach (var task in new[] { ok, bad, ok })
        {
            var r = await new FlyteRuntime(config).Run(task, 1, new RunOptions { CancellationToken = ct });
            await r.WaitAsync(ct);
        }

        await using var server = new RunConsoleServer(RunStore.Open(config.EffectiveRunDatabase), fixture.ConsolePort);
        server.Start();
        await using var browser = await ChromeDriver.StartAsync();

        await browser.GoToAsync($"http://localhost:{fixture.ConsolePort}/runs");
        await browser.RunAsync($"document.querySelector('input[name=task]').value = '{tag}'; document.querySelector('select[name=status]').value = 'failed'; document.querySelector('form.filters').submit(); return null;");
        await browser.WaitForAsync("return location.search.includes('status=failed');", TimeSpan.FromSeconds(20), "the filtered list");

        var rows = (await browser.RunAsync("return Array.from(document.querySelectorAll('#runs tr.run')).map(r => r.cells[1].textContent + ' ' + r.cells[2].textContent);"))!.AsArray();
        Assert.Equal([tag + "_bad failed"], rows.Select(r => r!.GetValue<string>()));
        Assert.Equal("failed", (await browser.RunAsync("return document.querySelector('select[name=status]').value;"))!.GetValue<string>());
        await browser.GoToAsync($"http://localhost:{fixture.ConsolePort}/runs?task={tag}&status=succeeded");
        Assert.Equal(2, (await browser.RunAsync("return document.querySelectorAll('#runs tr.run').length;"))!.GetValue<int>());
        await browser.GoToAsync($"http://localhost:{fixture.ConsolePort}/runs?status=bogus");
        Assert.Contains("status 'bogus' is not one of", (await browser.RunAsync("return document.getElementById('filter-error').textContent;"))!.GetValue<string>());
    }

    /// <summary>Screenshots go to $FLYTESHARP_SCREENSHOT_DIR when set (scripts/screenshots.sh points it at docs/images).</summary>
    private static async Task ScreenshotAsync(ChromeDriver browser, string name)
    {
        if (Environment.GetEnvironmentVariable("FLYTESHARP_SCREENSHOT_DIR") is { Length: > 0 } dir)
        {
            await browser.ScreenshotAsync(Path.Combine(dir, name));
        }
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
