using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FlyteSharp.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Runs;

public class RunConsoleServerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Get_KnownAndUnknownRuns_AnswersPageAnd404()
    {
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        store.InsertRun(new RunRecord("known-run", "pipe", "etl", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, "local"), null);
        await using var server = new RunConsoleServer(store, FreePort());
        server.Start();
        using var http = new HttpClient();

        var page = await http.GetAsync($"{server.BaseUrl}/runs/known-run", TestContext.Current.CancellationToken);
        var missing = await http.GetAsync($"{server.BaseUrl}/runs/no-such-run", TestContext.Current.CancellationToken);
        var list = await http.GetStringAsync($"{server.BaseUrl}/runs", TestContext.Current.CancellationToken);
        var api = await http.GetStringAsync($"{server.BaseUrl}/api/runs/known-run", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("known-run", await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("no run named", await missing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains("/runs/known-run", list);
        Assert.Contains("\"name\": \"known-run\"", api);
    }

    [Fact]
    public async Task Get_RunWithBlobAndLargeInlineOutputs_ShowsPreviewsAndStreamsWholeOutputsAndLogs()
    {
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        var large = await LargeRun.WriteAsync(store, _dir);
        await using var server = new RunConsoleServer(store, FreePort());
        server.Start();
        using var http = new HttpClient();
        var ct = TestContext.Current.CancellationToken;

        var page = await http.GetStringAsync($"{server.BaseUrl}/runs/{large.Name}", ct);
        var api = JsonDocument.Parse(await http.GetStringAsync($"{server.BaseUrl}/api/runs/{large.Name}", ct)).RootElement;
        var rootOutput = await http.GetByteArrayAsync($"{server.BaseUrl}/api/runs/{large.Name}/output", ct);
        var childOutput = await http.GetStringAsync($"{server.BaseUrl}/api/runs/{large.Name}/actions/{LargeRun.ChildId}/output", ct);
        var logs = await http.GetStringAsync($"{server.BaseUrl}/runs/{large.Name}/logs", ct);
        var unknownActionLogs = await http.GetAsync($"{server.BaseUrl}/runs/{large.Name}/logs/nope", ct);
        var unknownActionOutput = await http.GetAsync($"{server.BaseUrl}/api/runs/{large.Name}/actions/nope/output", ct);

        Assert.InRange(page.Length, 1, 700_000);
        Assert.Contains($"href=\"/api/runs/{large.Name}/output\"", page);
        Assert.Contains($"href=\"/api/runs/{large.Name}/actions/{LargeRun.ChildId}/output\"", page);
        Assert.DoesNotContain("value-39999", page);
        Assert.DoesNotContain("END-OF-INLINE", page);
        Assert.Contains("id=\"logs-truncated\"", page);
        Assert.DoesNotContain("log line 19999", page);

        var runOutputs = api.GetProperty("run").GetProperty("outputs");
        Assert.True(runOutputs.GetProperty("truncated").GetBoolean());
        Assert.Equal(large.Blob.Size, runOutputs.GetProperty("size").GetInt64());
        Assert.Equal(large.Blob.Uri, runOutputs.GetProperty("blob").GetString());
        var child = api.GetProperty("actions").EnumerateArray().Single(a => a.GetProperty("id").GetString() == LargeRun.ChildId).GetProperty("outputs");
        Assert.True(child.GetProperty("truncated").GetBoolean());
        Assert.Equal(1000, child.GetProperty("preview").GetString()!.Length);
        Assert.Equal(large.InlineOutput.Length, child.GetProperty("size").GetInt64());
        Assert.Equal($"/api/runs/{large.Name}/actions/{LargeRun.ChildId}/output", child.GetProperty("url").GetString());

        Assert.Equal(await File.ReadAllBytesAsync(large.BlobFile, ct), rootOutput);
        Assert.Equal(large.InlineOutput, childOutput);
        Assert.Equal(large.ExpectedLogText, logs);
        Assert.Equal(HttpStatusCode.NotFound, unknownActionLogs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownActionOutput.StatusCode);
    }

    [Fact]
    public async Task Get_BlobMissingFromStore_AnswersErrorNotCutOffOutput()
    {
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        var large = await LargeRun.WriteAsync(store, _dir);
        File.Delete(large.BlobFile);
        await using var server = new RunConsoleServer(store, FreePort());
        server.Start();
        using var http = new HttpClient();

        var response = await http.GetAsync($"{server.BaseUrl}/api/runs/{large.Name}/output", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("is not in the store", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
