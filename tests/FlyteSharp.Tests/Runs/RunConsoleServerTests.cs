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
        store.InsertRun(new RunRecord("known-run", "pipe", "etl", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, ExecutionMode.Local), null);
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

    private RunStore StoreWithRuns(int count)
    {
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        for (var i = 0; i < count; i++)
        {
            var at = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).AddMinutes(i);
            store.InsertRun(new RunRecord($"run-{i}", i % 2 == 0 ? "etl_pipeline" : "train", "etl", RunStatus.Running, "{}", null, null, "u", at, null, null, ExecutionMode.Local), null);
        }

        return store;
    }

    [Fact]
    public void ApiRuns_AnyRun_UsesTheCliJsonConvention()
    {
        var server = new RunConsoleServer(StoreWithRuns(1), 1);

        var (status, type, body) = server.Route("/api/runs");

        Assert.Equal(200, status);
        Assert.StartsWith("application/json", type);
        var run = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("runs")[0];
        Assert.Equal("run-0", run.GetProperty("name").GetString());
        Assert.Equal("running", run.GetProperty("status").GetString());
        Assert.Equal("2026-01-01T00:00:00.000Z", run.GetProperty("createdAt").GetString());
        Assert.True(run.TryGetProperty("bundleDigest", out _));
        Assert.DoesNotContain("_", string.Concat(run.EnumerateObject().Select(p => p.Name)));
    }

    [Fact]
    public void ApiRuns_FiltersAndCursor_PageThroughMatchingRunsNewestFirst()
    {
        var server = new RunConsoleServer(StoreWithRuns(7), 1);

        var first = System.Text.Json.JsonDocument.Parse(server.Route("/api/runs?task=ETL&limit=2&since=2026-01-01T00:01").Body).RootElement;
        var next = first.GetProperty("next").GetString()!;
        var second = System.Text.Json.JsonDocument.Parse(server.Route("/api/runs?task=ETL&limit=2&since=2026-01-01T00:01&before=" + Uri.EscapeDataString(next)).Body).RootElement;

        Assert.Equal(["run-6", "run-4"], first.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(["run-2"], second.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, second.GetProperty("next").ValueKind);
        Assert.Empty(System.Text.Json.JsonDocument.Parse(server.Route("/api/runs?status=failed").Body).RootElement.GetProperty("runs").EnumerateArray());
    }

    [Theory]
    [InlineData("/api/runs?status=exploded", "status 'exploded' is not one of running, succeeded, failed, cancelled, abandoned")]
    [InlineData("/api/runs?since=yesterday", "since 'yesterday' is not a time")]
    [InlineData("/api/runs?limit=0", "limit '0' must be a number from 1 to 1000")]
    [InlineData("/api/runs?before=nonsense", "'nonsense' is not a run list cursor")]
    public void ApiRuns_BadParameter_400NamingIt(string target, string message)
    {
        var (status, _, body) = new RunConsoleServer(StoreWithRuns(1), 1).Route(target);

        Assert.Equal(400, status);
        Assert.Equal(message, System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ApiLogs_After_ReturnsOnlyNewerLinesAndTheNextPosition()
    {
        var store = StoreWithRuns(1);
        await using (var writer = new RunStoreWriter(store, "run-0"))
        {
            writer.Log("a1", "stdout", "one", DateTimeOffset.UnixEpoch);
            writer.Log("a2", "stderr", "two", DateTimeOffset.UnixEpoch);
            writer.Log("a1", "stdout", "three", DateTimeOffset.UnixEpoch);
        }

        var server = new RunConsoleServer(store, 1);
        var all = System.Text.Json.JsonDocument.Parse(server.Route("/api/runs/run-0/logs").Body).RootElement;
        var after = all.GetProperty("lines")[0].GetProperty("number").GetInt64();
        var rest = System.Text.Json.JsonDocument.Parse(server.Route($"/api/runs/run-0/logs?action=a1&after={after}").Body).RootElement;

        Assert.Equal(["one", "two", "three"], all.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()));
        Assert.Equal(["three"], rest.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()));
        Assert.Equal("a1", rest.GetProperty("lines")[0].GetProperty("actionId").GetString());
        Assert.Equal(rest.GetProperty("lines")[0].GetProperty("number").GetInt64(), rest.GetProperty("next").GetInt64());
        Assert.Equal(404, server.Route("/api/runs/nope/logs").Status);
    }

    [Fact]
    public async Task Get_PageAndAssets_StrictCspAndAssetsServedFromTheTool()
    {
        await using var server = new RunConsoleServer(StoreWithRuns(1), FreePort());
        server.Start();
        using var http = new HttpClient();

        var page = await http.GetAsync($"{server.BaseUrl}/runs/run-0", TestContext.Current.CancellationToken);
        var script = await http.GetAsync($"{server.BaseUrl}/static/console.js", TestContext.Current.CancellationToken);
        var style = await http.GetStringAsync($"{server.BaseUrl}/static/console.css", TestContext.Current.CancellationToken);
        var post = await http.PostAsync($"{server.BaseUrl}/runs/run-0", new StringContent(""), TestContext.Current.CancellationToken);

        var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("style-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.DoesNotContain("http", csp);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Contains("DOMParser", await script.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains(".timeline", style);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(404, server.Route("/static/../runs.db").Status);
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

    [Fact]
    public async Task Get_RunListWithUnreadableErrorColumn_AnswersTheList()
    {
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        store.InsertRun(new RunRecord("odd-run", "pipe", "etl", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, ExecutionMode.Local), null);
        using (var connection = store.Connect())
        using (var update = connection.CreateCommand())
        {
            update.CommandText = "UPDATE runs SET status = 'failed', error = 'not json at all'";
            update.ExecuteNonQuery();
        }

        await using var server = new RunConsoleServer(store, FreePort());
        server.Start();
        using var http = new HttpClient();

        var list = await http.GetAsync($"{server.BaseUrl}/runs", TestContext.Current.CancellationToken);
        var page = await http.GetStringAsync($"{server.BaseUrl}/runs/odd-run", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains("/runs/odd-run", await list.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains("not json at all", page);
    }

    [Fact]
    public async Task Get_LogsOfUnknownAction_Answers404NamingIt()
    {
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        store.InsertRun(new RunRecord("known-run", "pipe", "etl", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, ExecutionMode.Local), null);
        using (var connection = store.Connect())
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = """
                INSERT INTO actions(run_name, id, seq, depth, task, kind, environment, status, started_at) VALUES('known-run', 'a0', 0, 0, 'pipe', 'csharp', 'etl', 'succeeded', '2026-01-01T00:00:00.0000000Z');
                INSERT INTO logs(run_name, action_id, at, stream, line) VALUES('known-run', 'a0', '2026-01-01T00:00:00.0000000Z', 'stdout', 'hello');
                """;
            insert.ExecuteNonQuery();
        }

        await using var server = new RunConsoleServer(store, FreePort());
        server.Start();
        using var http = new HttpClient();

        var known = await http.GetAsync($"{server.BaseUrl}/runs/known-run/logs/a0", TestContext.Current.CancellationToken);
        var unknown = await http.GetAsync($"{server.BaseUrl}/runs/known-run/logs/no-such-action", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Equal("a0 stdout: hello\n", await known.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("has no action 'no-such-action'", await unknown.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Get_UnknownRunOrPath_PageDoesNotShowTheDatabasePath()
    {
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        await using var server = new RunConsoleServer(store, FreePort());
        server.Start();
        using var http = new HttpClient();

        var run = await http.GetAsync($"{server.BaseUrl}/runs/no-such-run", TestContext.Current.CancellationToken);
        var other = await http.GetAsync($"{server.BaseUrl}/nothing/here", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, run.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        foreach (var body in new[] { await run.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), await other.Content.ReadAsStringAsync(TestContext.Current.CancellationToken) })
        {
            Assert.DoesNotContain(_dir, body);
            Assert.DoesNotContain("runs.db", body);
        }
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    public async Task Get_LoopbackHostNames_AllAnswerTheRunList(string host)
    {
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        store.InsertRun(new RunRecord("known-run", "pipe", "etl", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, ExecutionMode.Local), null);
        await using var server = new RunConsoleServer(store, FreePort());
        server.Start();
        using var http = new HttpClient();

        var response = await http.GetAsync($"http://{host}:{server.Port}/runs", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("/runs/known-run", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Get_NonLoopbackHostHeader_IsNotAnswered()
    {
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        await using var server = new RunConsoleServer(store, FreePort());
        server.Start();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{server.Port}/runs");
        request.Headers.Host = $"evil.example:{server.Port}";

        var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Dispose_AfterTheServerClosedAConnection_ReleasesThePortWithoutRebinding()
    {
        // The server closing first leaves its side of the connection in TIME_WAIT; a listener stopped and then closed
        // again removes its prefixes twice, and the second removal re-binds the port and fails with "address in use".
        var store = RunStore.Open(Path.Combine(_dir, "runs.db"));
        var server = new RunConsoleServer(store, FreePort());
        server.Start();
        using (var http = new HttpClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{server.Port}/runs");
            request.Headers.ConnectionClose = true;
            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Task.Delay(100, TestContext.Current.CancellationToken);

        var disposing = await Record.ExceptionAsync(async () => await server.DisposeAsync());

        Assert.Null(disposing);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(99999)]
    public void New_PortOutOfRange_ThrowsWithFix(int port)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => new RunConsoleServer(RunStore.Open(Path.Combine(_dir, "runs.db")), port));

        Assert.Contains($"port {port} is not a TCP port", ex.Reason);
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
