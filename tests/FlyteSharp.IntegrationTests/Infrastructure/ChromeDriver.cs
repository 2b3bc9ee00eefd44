using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// Headless Chromium driven through Debian's chromedriver (the W3C WebDriver protocol over HTTP, a few calls with
/// HttpClient): open a page, run script in it, wait for a condition, take a screenshot. Real browser, real JS.
/// </summary>
public sealed class ChromeDriver : IAsyncDisposable
{
    private readonly Process _driver;
    private readonly HttpClient _http;
    private readonly string _profile = Path.Combine(Path.GetTempPath(), "flytesharp-chromedriver-" + Guid.NewGuid().ToString("n"));
    private string? _session;

    private ChromeDriver(Process driver, int port)
    {
        _driver = driver;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(2) };
    }

    /// <summary>Starts chromedriver and a headless Chromium session with a private profile.</summary>
    public static async Task<ChromeDriver> StartAsync(int width = 1280, int height = 900)
    {
        var port = Runs.RunsProjectFixture.FreePort();
        var start = new ProcessStartInfo("chromedriver") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add($"--port={port}");
        var driver = new ChromeDriver(Process.Start(start)!, port);
        driver._driver.OutputDataReceived += (_, _) => { };
        driver._driver.ErrorDataReceived += (_, _) => { };
        driver._driver.BeginOutputReadLine();
        driver._driver.BeginErrorReadLine();
        for (var i = 0; ; i++)
        {
            try
            {
                var status = await driver._http.GetFromJsonAsync<JsonObject>("status");
                if (status?["value"]?["ready"]?.GetValue<bool>() == true)
                {
                    break;
                }
            }
            catch (HttpRequestException) when (i < 100)
            {
            }

            await Task.Delay(100);
        }

        var capabilities = new JsonObject
        {
            ["capabilities"] = new JsonObject
            {
                ["alwaysMatch"] = new JsonObject
                {
                    ["goog:chromeOptions"] = new JsonObject
                    {
                        ["binary"] = "/usr/bin/chromium",
                        ["args"] = new JsonArray("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--window-size={width},{height}",
                            $"--user-data-dir={driver._profile}"),
                    },
                },
            },
        };
        var session = await driver.SendAsync(HttpMethod.Post, "session", capabilities);
        driver._session = session["value"]!["sessionId"]!.GetValue<string>();
        return driver;
    }

    /// <summary>Opens <paramref name="url"/> and waits for the page to load.</summary>
    public Task GoToAsync(string url) => SendAsync(HttpMethod.Post, $"session/{_session}/url", new JsonObject { ["url"] = url });

    /// <summary>Runs <paramref name="script"/> (a function body; <c>return</c> gives the result) in the page.</summary>
    public async Task<JsonNode?> RunAsync(string script)
    {
        var result = await SendAsync(HttpMethod.Post, $"session/{_session}/execute/sync", new JsonObject { ["script"] = script, ["args"] = new JsonArray() });
        return result["value"];
    }

    /// <summary>Runs <paramref name="script"/> until it returns true, or throws after <paramref name="timeout"/>.</summary>
    public async Task WaitForAsync(string script, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            if ((await RunAsync(script))?.GetValueKind() == JsonValueKind.True)
            {
                return;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"waited {timeout} for {what}; body attributes {await RunAsync("return JSON.stringify(Object.assign({}, document.body.dataset));")}; the page is:\n{await RunAsync("return document.body.innerText;")}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The current URL.</summary>
    public async Task<string> UrlAsync() => (await SendAsync(HttpMethod.Get, $"session/{_session}/url", null))["value"]!.GetValue<string>();

    /// <summary>A PNG of the viewport, written to <paramref name="path"/>.</summary>
    public async Task ScreenshotAsync(string path)
    {
        var result = await SendAsync(HttpMethod.Get, $"session/{_session}/screenshot", null);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result["value"]!.GetValue<string>()));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_session is not null)
            {
                await _http.DeleteAsync($"session/{_session}");
            }
        }
        catch (HttpRequestException)
        {
        }

        try
        {
            _driver.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }

        _driver.Dispose();
        _http.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, JsonObject? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            // chromedriver needs a Content-Length: JsonContent would stream the body chunked.
            request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"chromedriver {method} {path} answered {(int)response.StatusCode}: {text}");
        }

        return JsonNode.Parse(text)!.AsObject();
    }
}
