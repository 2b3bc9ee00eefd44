using System.Text.Json;
using FlyteSharp.Cli;
using FlyteSharp.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Cli;

public sealed class RunsCommandTests : IDisposable
{
    private readonly TempTree _tree = new("flytesharp-runs-cli-");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _tree.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task List_RunWhoseErrorColumnIsNotJson_ListsItWithTheRawError(bool json)
    {
        var db = _tree.PathOf("runs.db");
        var store = RunStore.Open(db);
        store.InsertRun(new RunRecord("odd-run", "pipe", "etl", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, "local"), null);
        using (var connection = store.Connect())
        using (var update = connection.CreateCommand())
        {
            update.CommandText = "UPDATE runs SET status = 'failed', error = 'Traceback: written by another tool'";
            update.ExecuteNonQuery();
        }

        var output = new StringWriter();
        var error = new StringWriter();
        string[] args = json ? ["runs", "--db", db, "list", "--json"] : ["runs", "--db", db, "list"];
        var code = await FlyteCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);

        Assert.True(code == 0, error.ToString());
        if (json)
        {
            var run = Assert.Single(JsonDocument.Parse(output.ToString()).RootElement.EnumerateArray());
            Assert.Equal(RunStore.UnreadableErrorType, run.GetProperty("error").GetProperty("type").GetString());
            Assert.EndsWith("Traceback: written by another tool", run.GetProperty("error").GetProperty("message").GetString());
        }
        else
        {
            Assert.Contains("odd-run", output.ToString());
            Assert.Contains("failed", output.ToString());
        }
    }
}
