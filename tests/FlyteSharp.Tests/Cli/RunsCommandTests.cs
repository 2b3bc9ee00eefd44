using FlyteSharp.Cli;
using FlyteSharp.Runs;
using FlyteSharp.Tests.Runs;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Cli;

public class RunsCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));

    public RunsCommandTests() => Directory.CreateDirectory(_dir);

    private string Db => Path.Combine(_dir, "runs.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Show_LargeOutputs_PrintsTruncatedPreviewAndHowToGetTheWhole()
    {
        var large = await LargeRun.WriteAsync(RunStore.Open(Db), _dir);

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
        var large = await LargeRun.WriteAsync(RunStore.Open(Db), _dir);
        var file = Path.Combine(_dir, "out", "root.json");

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
        var large = await LargeRun.WriteAsync(RunStore.Open(Db), _dir);

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
