using System.Text.Json;
using FlyteSharp.Cli;
using FlyteSharp.Runs;
using FlyteSharp.Tests.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Cli;

public sealed class RunsCommandTests : IDisposable
{
    private readonly TempTree _tree = new("flytesharp-runs-cli-");

    private string Db => _tree.PathOf("runs.db");

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

    [Fact]
    public async Task Show_LargeOutputs_PrintsTruncatedPreviewAndHowToGetTheWhole()
    {
        var large = await LargeRun.WriteAsync(RunStore.Open(Db), _tree.Root);

        var (code, output, error) = await CliAsync("runs", "show", large.Name, "--db", Db);
        var json = await CliAsync("runs", "show", large.Name, "--db", Db, "--json");

        Assert.True(code == 0, error);
        Assert.Contains("outputs  [\"value-0\",", output);
        Assert.Contains($"flytesharp runs output {large.Name}", output);
        Assert.DoesNotContain("value-39999", output);
        Assert.DoesNotContain("END-OF-INLINE", output);
        Assert.InRange(output.Length, 1, 10_000);
        Assert.Equal(0, json.Code);
        Assert.DoesNotContain("value-39999", json.Out);
        Assert.Contains("\"truncated\": true", json.Out);
    }

    [Fact]
    public async Task Output_BlobAndInline_WritesWholeOutputByteIdentical()
    {
        var large = await LargeRun.WriteAsync(RunStore.Open(Db), _tree.Root);
        var file = _tree.PathOf("out/root.json");

        var toFile = await CliAsync("runs", "output", large.Name, "-o", file, "--db", Db);
        var toStdout = await CliAsync("runs", "output", large.Name, "--db", Db);
        var child = await CliAsync("runs", "output", large.Name, LargeRun.ChildId, "--db", Db);
        var missing = await CliAsync("runs", "output", large.Name, "nope", "--db", Db);

        Assert.True(toFile.Code == 0, toFile.Err);
        Assert.Equal(await File.ReadAllBytesAsync(large.BlobFile, TestContext.Current.CancellationToken), await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken));
        Assert.Equal(LargeRun.Utf8(await File.ReadAllBytesAsync(large.BlobFile, TestContext.Current.CancellationToken)) + "\n", toStdout.Out.ReplaceLineEndings("\n"));
        Assert.Equal(large.InlineOutput + "\n", child.Out.ReplaceLineEndings("\n"));
        Assert.Equal(1, missing.Code);
        Assert.Contains("has no action 'nope'", missing.Err);
    }

    [Fact]
    public async Task Logs_ManyChunks_PrintsEveryLineInOrder()
    {
        var large = await LargeRun.WriteAsync(RunStore.Open(Db), _tree.Root);

        var (code, output, error) = await CliAsync("runs", "logs", large.Name, LargeRun.ChildId, "--db", Db);

        Assert.True(code == 0, error);
        Assert.Equal(large.LogLines, output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
    }

    private static async Task<(int Code, string Out, string Err)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await FlyteCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }
}
