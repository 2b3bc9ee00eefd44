using System.Text.Json;
using FlyteSharp.Cli;
using FlyteSharp.Execution.Sandboxes;
using FlyteSharp.Runs;
using FlyteSharp.Tests.Execution.Sandboxes;
using FlyteSharp.Tests.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Cli;

public sealed class RunsCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));
    private readonly TempTree _tree = new("flytesharp-runs-cli-");

    public RunsCommandTests()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(ConfigFile, $"home = \"{Home}\"\n[runs]\nsandbox_max_age = \"2h\"\n");
    }

    private string Home => Path.Combine(_dir, "home");

    private string ConfigFile => Path.Combine(_dir, "flytesharp.toml");

    private string Db => _tree.PathOf("runs.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        _tree.Dispose();
    }

    [Theory]
    [InlineData("list")]
    [InlineData("list", "--json")]
    [InlineData("show", "some-run")]
    [InlineData("logs", "some-run")]
    [InlineData("output", "some-run")]
    public async Task ReadingCommand_DatabaseDoesNotExist_SaysSoAndCreatesNothing(params string[] command)
    {
        var missing = _tree.PathOf("typo/dir/runs.db");
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await FlyteCli.RunAsync(["runs", "--db", missing, .. command], output, error, TestContext.Current.CancellationToken);

        Assert.False(Directory.Exists(_tree.PathOf("typo")), "a reading command created the database's directory");
        if (command[0] == "list")
        {
            Assert.Equal(0, code);
            Assert.Contains(command.Length == 1 ? $"there is no run database at {missing}" : "[]", output.ToString());
        }
        else
        {
            Assert.Equal(1, code);
            Assert.Contains($"there is no run database at {missing}", error.ToString());
            Assert.DoesNotContain("no run named", error.ToString());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task List_RunWhoseErrorColumnIsNotJson_ListsItWithTheRawError(bool json)
    {
        var db = _tree.PathOf("runs.db");
        var store = RunStore.Open(db);
        store.InsertRun(new RunRecord("odd-run", "pipe", "etl", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, ExecutionMode.Local), null);
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
    public async Task Gc_OlderThanZero_RemovesSandboxOfGoneRunAndSaysSo()
    {
        var sandbox = DeadOwnersSandbox("killed");
        var live = RunSandbox.Create(Home, "live", DateTimeOffset.UtcNow);

        var (code, output, error) = await CliAsync("runs", "gc", "--older-than", "0", "--config", ConfigFile);

        Assert.True(code == 0, error);
        Assert.Contains($"removed    sandbox {sandbox}", output);
        Assert.Contains("kept       1 sandbox(es)", output);
        Assert.False(Directory.Exists(sandbox));
        Assert.True(Directory.Exists(live));
    }

    [Fact]
    public async Task Gc_DefaultAgeFromConfig_KeepsRecentSandbox()
    {
        var sandbox = DeadOwnersSandbox("killed");

        var (code, output, _) = await CliAsync("runs", "gc", "--json", "--config", ConfigFile);

        Assert.Equal(0, code);
        var report = JsonDocument.Parse(output).RootElement;
        Assert.Equal(0, report.GetProperty("removedSandboxes").GetArrayLength());
        Assert.Equal(1, report.GetProperty("keptSandboxes").GetInt32());
        Assert.True(Directory.Exists(sandbox));
    }

    [Fact]
    public async Task Gc_MalformedAge_FailsWithTheFormat()
    {
        var (code, _, error) = await CliAsync("runs", "gc", "--older-than", "5 weeks", "--config", ConfigFile);

        Assert.Equal(1, code);
        Assert.Contains("--older-than must be an age like \"90s\"", error);
    }

    private string DeadOwnersSandbox(string run)
    {
        var (pid, start) = SandboxSweeperTests.DeadProcess();
        var sandbox = Path.Combine(RunSandbox.Root(Home), run + ".0001");
        Directory.CreateDirectory(sandbox);
        File.WriteAllText(Path.Combine(sandbox, RunSandbox.OwnerFileName), JsonSerializer.Serialize(new
        {
            run,
            host = RunStore.Self.Host,
            pid,
            start,
            created_at = DateTimeOffset.UtcNow,
        }));
        return sandbox;
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
