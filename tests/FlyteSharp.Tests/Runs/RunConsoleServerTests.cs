using System.Net;
using System.Net.Sockets;
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

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
