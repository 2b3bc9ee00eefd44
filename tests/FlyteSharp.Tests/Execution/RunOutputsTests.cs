using System.Security.Cryptography;
using System.Text;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Execution;

/// <summary>Outputs and inputs above the inline limit travel as blobs in the store; logs are stored in bounded chunks. Real python3.</summary>
public class RunOutputsTests : IDisposable
{
    private const string BigPython = """
        import hashlib
        import json
        import sys

        def big_list(n: int) -> list:
            items = [f"item-{i}-é\"{'x' * (i % 7)}" for i in range(n)]
            # What the runner will send: the test checks the stored blob is exactly these bytes.
            print("sha256:" + hashlib.sha256(json.dumps(items).encode()).hexdigest())
            return items

        def total_length(items: list) -> int:
            return sum(len(s) for s in items)

        def chatty(lines: int, long_line: int) -> int:
            for i in range(lines):
                print(f"line {i:06d} " + "." * 80)
            print("L" * long_line)
            print("to stderr", file=sys.stderr)
            return lines
        """;

    private readonly RunFixture _fixture = new();

    public RunOutputsTests() => _fixture.Config = _fixture.Config with { InlineOutputLimit = 4096 };

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _fixture.Dispose();
    }

    private static TaskEnvironment NewEnv() => new("big", Image.FromDebianBase());

    private static List<string> Expected(int n) => Enumerable.Range(0, n).Select(i => $"item-{i}-é\"{new string('x', i % 7)}").ToList();

    [Fact]
    public async Task Run_PythonOutputAboveLimit_IsBlobByteIdenticalAndFeedsNextTaskByReference()
    {
        _fixture.WritePython("app/big.py", BigPython);
        var env = NewEnv();
        var bigList = env.PythonTask<int, List<string>>("app.big:big_list");
        var totalLength = env.PythonTask<List<string>, int>("app.big:total_length");
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var items = await bigList.InvokeAsync(n);
            Assert.Equal(Expected(n), items);
            return await totalLength.InvokeAsync(items);
        });

        var run = await _fixture.Runtime.Run(pipeline, 20_000, _fixture.Options());
        var output = await run.GetOutputAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Expected(20_000).Sum(s => s.Length), output);
        var actions = await run.GetActionsAsync(TestContext.Current.CancellationToken);
        var produced = actions.Single(a => a.Task == "app.big:big_list");
        Assert.Null(produced.OutputsJson);
        var blob = Assert.IsType<OutputBlob>(produced.OutputsBlob);
        var bytes = await File.ReadAllBytesAsync(new Uri(blob.Uri).LocalPath, TestContext.Current.CancellationToken);
        var printed = (await run.GetLogsAsync(produced.Id, TestContext.Current.CancellationToken)).Single(l => l.Stream == "stdout").Text;
        Assert.Equal(printed, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal(printed, blob.Digest);
        Assert.Equal(bytes.Length, blob.Size);
        Assert.StartsWith("[\"item-0-\\u00e9\\\"\", \"item-1-", blob.Preview);
        Assert.True(blob.Preview.Length <= 1000);

        var consumed = actions.Single(a => a.Task == "app.big:total_length");
        Assert.Null(consumed.InputsJson);
        Assert.True(Assert.IsType<OutputBlob>(consumed.InputsBlob).Size > 4096);
        Assert.StartsWith("{\"items\":[", consumed.InputsBlob!.Preview);
        Assert.Equal(output.ToString(System.Globalization.CultureInfo.InvariantCulture), consumed.OutputsJson);
        Assert.False(Directory.Exists(Path.Combine(_fixture.Config.Home, "sandboxes", run.Name)), "spill files go with the sandbox");
    }

    [Fact]
    public async Task Run_PythonRootOutputAboveLimit_GetOutputAsyncStreamsItFromTheStore()
    {
        _fixture.WritePython("app/big.py", BigPython);
        var bigList = NewEnv().PythonTask<int, List<string>>("app.big:big_list");

        var run = await _fixture.Runtime.Run(bigList, 5_000, _fixture.Options());
        var output = await run.GetOutputAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Expected(5_000), output);
        var record = await run.GetRecordAsync(TestContext.Current.CancellationToken);
        Assert.Null(record.OutputsJson);
        Assert.NotNull(record.OutputsBlob);
        Assert.Equal((await run.GetActionsAsync(TestContext.Current.CancellationToken))[0].OutputsBlob, record.OutputsBlob);
    }

    [Fact]
    public async Task Run_CSharpOutputAboveLimitCached_SecondRunReadsTheBlob()
    {
        var calls = 0;
        var env = NewEnv();
        var make = env.Task("make", async (int n) =>
        {
            await Task.Yield();
            Interlocked.Increment(ref calls);
            return Expected(n);
        }, new TaskOptions { Cache = true, CacheVersion = Guid.NewGuid().ToString("n") });
        var count = env.Task("count", async (int n) => (await make.InvokeAsync(n)).Count);

        var first = await _fixture.Runtime.Run(count, 3_000, _fixture.Options());
        Assert.Equal(3_000, await first.GetOutputAsync(TestContext.Current.CancellationToken));
        var second = await _fixture.Runtime.Run(count, 3_000, _fixture.Options());
        Assert.Equal(3_000, await second.GetOutputAsync(TestContext.Current.CancellationToken));

        Assert.Equal(1, calls);
        var cached = (await second.GetActionsAsync(TestContext.Current.CancellationToken)).Single(a => a.Task == "make");
        Assert.Equal(ActionStatus.Cached, cached.Status);
        Assert.NotNull(cached.OutputsBlob);
        Assert.Equal((await first.GetActionsAsync(TestContext.Current.CancellationToken)).Single(a => a.Task == "make").OutputsBlob, cached.OutputsBlob);
    }

    [Fact]
    public async Task Run_PythonPrintsManyAndLongLines_LogStoredInBoundedChunksAndReadBackPagedInOrder()
    {
        _fixture.WritePython("app/big.py", BigPython);
        var chatty = NewEnv().PythonTask<int, int, int>("app.big:chatty");
        const int LongLine = (RunStoreWriter.MaxLogChunkChars * 2) + 123;

        var run = await _fixture.Runtime.Run(chatty, 3_000, LongLine, _fixture.Options());
        await run.GetOutputAsync(TestContext.Current.CancellationToken);
        var logs = await run.GetLogsAsync(cancellationToken: TestContext.Current.CancellationToken);

        var stdout = logs.Where(l => l.Stream == "stdout").Select(l => l.Text).ToList();
        Assert.Equal(Enumerable.Range(0, 3_000).Select(i => $"line {i:000000} " + new string('.', 80)), stdout.Take(3_000));
        Assert.Equal([RunStoreWriter.MaxLogChunkChars, RunStoreWriter.MaxLogChunkChars, 123], stdout.Skip(3_000).Select(l => l.Length));
        Assert.All(stdout.Skip(3_000), l => Assert.Equal(new string('L', l.Length), l));
        Assert.Contains(logs, l => l is { Stream: "stderr", Text: "to stderr" });

        var store = RunStore.Open(_fixture.Config.EffectiveRunDatabase);
        using (var connection = store.Connect())
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*), max(length(line)) FROM logs WHERE run_name = $run";
            command.Parameters.AddWithValue("$run", run.Name);
            using var reader = command.ExecuteReader();
            reader.Read();
            Assert.InRange(reader.GetInt64(0), 4, 100); // chunks, not 3,000 rows
            Assert.True(reader.GetInt64(1) <= RunStoreWriter.MaxLogChunkChars);
        }

        var paged = new List<LogLine>();
        var page = store.ReadLogPage(run.Name, null, 0, 2);
        Assert.Equal(2, page.Rows);
        for (; page.Rows > 0; page = store.ReadLogPage(run.Name, null, page.LastRowId, 2))
        {
            paged.AddRange(page.Lines);
        }

        Assert.Equal(logs, paged);
    }
}
