using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Tests.Runs;

public class RunStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string Db => Path.Combine(_dir, "runs.db");

    [Fact]
    public void Open_NewFile_CreatesWalDatabaseAtSchemaVersion()
    {
        var store = RunStore.Open(Db);

        using var connection = store.Connect();
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
        Assert.Equal((long)RunStore.SchemaVersion, Scalar(connection, "PRAGMA user_version"));
    }

    [Fact]
    public async Task Open_Version1Database_AddsActionColumnsAndKeepsRecords()
    {
        Directory.CreateDirectory(_dir);
        using (var connection = new SqliteConnection($"Data Source={Db}"))
        {
            connection.Open();
            Scalar(connection, """
                CREATE TABLE runs(name TEXT PRIMARY KEY, task TEXT NOT NULL, environment TEXT NOT NULL, status TEXT NOT NULL,
                  inputs TEXT, outputs TEXT, error TEXT, url TEXT NOT NULL, mode TEXT NOT NULL, created_at TEXT NOT NULL, ended_at TEXT,
                  owner_host TEXT NOT NULL, owner_pid INTEGER NOT NULL, owner_start INTEGER NOT NULL, heartbeat_at TEXT NOT NULL, bundle_digest TEXT, root_dir TEXT);
                CREATE TABLE actions(run_name TEXT NOT NULL, id TEXT NOT NULL, parent_id TEXT, seq INTEGER NOT NULL, depth INTEGER NOT NULL,
                  task TEXT NOT NULL, kind TEXT NOT NULL, environment TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                  cache_hit INTEGER NOT NULL DEFAULT 0, inputs TEXT, outputs TEXT, error TEXT, started_at TEXT NOT NULL, ended_at TEXT, PRIMARY KEY(run_name, id));
                CREATE TABLE logs(id INTEGER PRIMARY KEY AUTOINCREMENT, run_name TEXT NOT NULL, action_id TEXT NOT NULL, at TEXT NOT NULL, stream TEXT NOT NULL, line TEXT NOT NULL);
                CREATE TABLE cache(key TEXT PRIMARY KEY, task TEXT NOT NULL, version TEXT NOT NULL, outputs TEXT NOT NULL, created_at TEXT NOT NULL, run_name TEXT, action_id TEXT);
                INSERT INTO actions VALUES('old', 'a1', NULL, 0, 0, 't', 'csharp', 'etl', 'succeeded', 1, 0, '{}', '1', NULL, '2026-01-01T00:00:00.0000000Z', '2026-01-01T00:00:01.0000000Z');
                PRAGMA user_version = 1;
                """);
        }

        var store = RunStore.Open(Db);
        var old = Assert.Single(store.GetActions("old"));
        await using (var writer = new RunStoreWriter(store, "new"))
        {
            writer.ActionStarted("a2", null, 0, 0, "t", TaskKind.Python, "etl", "{}", DateTimeOffset.UnixEpoch, new Dictionary<string, string> { ["LEVEL"] = "info" });
            writer.AttemptStarted("a2", 1, DateTimeOffset.UnixEpoch.AddSeconds(2));
            writer.ActionPlaced("a2", "localhost:5000/flytesharp:abc", "podman container c1");
            writer.AttemptStarted("a2", 2, DateTimeOffset.UnixEpoch.AddSeconds(5));
        }

        Assert.Equal(("t", 1, 0), (old.Task, old.Attempts, old.EnvVars.Count));
        var added = Assert.Single(store.GetActions("new"));
        Assert.Equal("info", added.EnvVars["LEVEL"]);
        Assert.Equal(("localhost:5000/flytesharp:abc", "podman container c1", 2), (added.Image, added.Host, added.Attempts));
        Assert.Equal([DateTimeOffset.UnixEpoch.AddSeconds(2), DateTimeOffset.UnixEpoch.AddSeconds(5)], added.AttemptStartedAt);
    }

    [Fact]
    public void Open_NewerSchema_RefusesWithFix()
    {
        using (var connection = RunStore.Open(Db).Connect())
        {
            Scalar(connection, "PRAGMA user_version = 99");
        }

        var ex = Assert.Throws<FlyteSharpException>(() => RunStore.Open(Db));

        Assert.Contains("schema version 99", ex.Message);
        Assert.Equal(Db, ex.File);
    }

    [Fact]
    public void Open_FileIsNotADatabase_ThrowsNamingTheFile()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Db, "these bytes are not SQLite, not even close: padding to pass the header size check");

        var ex = Assert.Throws<FlyteSharpException>(() => RunStore.Open(Db));

        Assert.Contains("cannot open the run database", ex.Reason);
        Assert.Equal(Db, ex.File);
        Assert.Contains("--db", ex.Fix);
    }

    [Fact]
    public void Open_PathIsADirectory_ThrowsNamingIt()
    {
        Directory.CreateDirectory(Db);

        var ex = Assert.Throws<FlyteSharpException>(() => RunStore.Open(Db));

        Assert.Equal("the run database is a directory", ex.Reason);
        Assert.Equal(Db, ex.File);
    }

    [Fact]
    public void GetRun_OwnerProcessGone_MarksRunAndRunningActionsAbandoned()
    {
        var store = RunStore.Open(Db);
        Insert(store, "r1", host: RunStore.Self.Host, pid: DeadPid(), heartbeat: "2026-01-01T00:00:00.0000000Z");

        var run = store.GetRun("r1")!;

        Assert.Equal(RunStatus.Abandoned, run.Status);
        Assert.Contains("is gone", run.Error!.Message);
        var actions = store.GetActions("r1");
        Assert.Equal(ActionStatus.Abandoned, actions.Single(a => a.Id == "a-running").Status);
        Assert.Equal(ActionStatus.Succeeded, actions.Single(a => a.Id == "a-done").Status);
    }

    [Theory]
    [InlineData("Traceback (most recent call last): boom")]
    [InlineData("{\"type\": \"X\"")]
    [InlineData("42")]
    [InlineData("{\"unrelated\": true}")]
    public void ListRunsAndGetActions_ErrorColumnNotFlyteSharpJson_ShowTheRawTextAsUnreadableError(string stored)
    {
        var store = RunStore.Open(Db);
        store.InsertRun(new RunRecord("r1", "pipe", "etl", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, ExecutionMode.Local), null);
        using (var connection = store.Connect())
        {
            Exec(connection, "INSERT INTO actions(run_name, id, seq, depth, task, kind, environment, status, started_at) VALUES('r1', 'a0', 0, 0, 'pipe', 'csharp', 'etl', 'failed', '2026-01-01T00:00:00.0000000Z')");
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE runs SET status = 'failed', error = $e; UPDATE actions SET error = $e";
            update.Parameters.AddWithValue("$e", stored);
            update.ExecuteNonQuery();
        }

        var run = Assert.Single(store.ListRuns());
        var action = Assert.Single(store.GetActions("r1"));

        Assert.Equal(RunStore.UnreadableErrorType, run.Error!.Type);
        Assert.EndsWith(stored, run.Error.Message);
        Assert.Equal(run.Error, action.Error);
    }

    [Fact]
    public void GetRun_OwnerGoneLongAgo_EndsAtLastSignOfLifeNotWhenRead()
    {
        var store = RunStore.Open(Db, new ManualClock(DateTimeOffset.Parse("2026-01-01T05:00:00Z")));
        Insert(store, "r1", host: RunStore.Self.Host, pid: DeadPid(), heartbeat: "2026-01-01T00:00:15.0000000Z");

        var run = store.GetRun("r1")!;
        var later = RunStore.Open(Db, new ManualClock(DateTimeOffset.Parse("2026-01-02T00:00:00Z"))).GetRun("r1")!;

        Assert.Equal(RunStatus.Abandoned, run.Status);
        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:00:15Z"), run.EndedAt);
        Assert.Equal(TimeSpan.FromSeconds(15), run.Duration);
        Assert.Equal(run.EndedAt, later.EndedAt);
        Assert.Equal(run.EndedAt, store.GetActions("r1").Single(a => a.Id == "a-running").EndedAt);
    }

    [Fact]
    public void MarkAbandonedRuns_OwnerGone_ReturnsEachRunOnce()
    {
        var store = RunStore.Open(Db);
        Insert(store, "gone", host: RunStore.Self.Host, pid: DeadPid(), heartbeat: "2026-01-01T00:00:00.0000000Z");
        Insert(store, "mine", host: RunStore.Self.Host, pid: RunStore.Self.Pid, start: RunStore.Self.Start, heartbeat: "2026-01-01T00:00:00.0000000Z");

        Assert.Equal(["gone"], store.MarkAbandonedRuns());
        Assert.Empty(store.MarkAbandonedRuns());
    }

    [Fact]
    public void GetRun_OwnerIsThisProcess_StaysRunning()
    {
        var store = RunStore.Open(Db);
        Insert(store, "r1", host: RunStore.Self.Host, pid: RunStore.Self.Pid, start: RunStore.Self.Start, heartbeat: "2026-01-01T00:00:00.0000000Z");

        Assert.Equal(RunStatus.Running, store.GetRun("r1")!.Status);
    }

    [Fact]
    public void ListRuns_OtherHostHeartbeatStale_MarksAbandoned()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-01-01T00:10:00Z"));
        var store = RunStore.Open(Db, clock);
        Insert(store, "fresh", host: "elsewhere", pid: 1, heartbeat: "2026-01-01T00:09:30.0000000Z");
        Insert(store, "stale", host: "elsewhere", pid: 1, heartbeat: "2026-01-01T00:01:00.0000000Z");

        var runs = store.ListRuns().ToDictionary(r => r.Name);

        Assert.Equal(RunStatus.Running, runs["fresh"].Status);
        Assert.Equal(RunStatus.Abandoned, runs["stale"].Status);
        Assert.Contains("no heartbeat from elsewhere", runs["stale"].Error!.Message);
    }

    [Fact]
    public async Task Writers_TwoRunsWritingConcurrently_BothRecordedCompletely()
    {
        var store = RunStore.Open(Db);
        var at = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        var writers = new[] { "w1", "w2" }.Select(name =>
        {
            store.InsertRun(new RunRecord(name, "t", "env", RunStatus.Running, "{}", null, null, "u", at, null, null, ExecutionMode.Local), null);
            return (Name: name, Writer: new RunStoreWriter(RunStore.Open(Db), name));
        }).ToArray();

        await Task.WhenAll(writers.Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 2000; i++)
            {
                w.Writer.ActionStarted($"a{i}", null, i, 0, "t", TaskKind.CSharp, "env", "{}", at);
                w.Writer.ActionFinished($"a{i}", ActionStatus.Succeeded, 1, false, "1", null, at);
                if (i % 100 == 0)
                {
                    await w.Writer.FlushAsync();
                }
            }

            w.Writer.RunFinished(RunStatus.Succeeded, "1", null, at);
            await w.Writer.DisposeAsync();
        }, TestContext.Current.CancellationToken)));

        foreach (var (name, _) in writers)
        {
            Assert.Equal(RunStatus.Succeeded, store.GetRun(name)!.Status);
            Assert.Equal(2000, store.GetActions(name).Count(a => a.Status == ActionStatus.Succeeded));
        }
    }

    [Fact]
    public void InsertRun_NameTaken_ThrowsWithFix()
    {
        var store = RunStore.Open(Db);
        var run = new RunRecord("same", "t", "env", RunStatus.Running, "{}", null, null, "u", DateTimeOffset.UnixEpoch, null, null, ExecutionMode.Local);
        store.InsertRun(run, null);

        var ex = Assert.Throws<FlyteSharpException>(() => store.InsertRun(run, null));

        Assert.Contains("already exists", ex.Message);
    }

    [Fact]
    public void GetActions_Tree_ParentsBeforeChildrenInCallOrder()
    {
        var store = RunStore.Open(Db);
        Insert(store, "r1", RunStore.Self.Host, RunStore.Self.Pid, "2026-01-01T00:00:00.0000000Z", RunStore.Self.Start);
        using (var c = store.Connect())
        {
            Exec(c, """
                INSERT INTO actions(run_name,id,parent_id,seq,depth,task,kind,environment,status,started_at) VALUES
                ('r1','c2','a-done',2,1,'t','csharp','e','succeeded','2026-01-01T00:00:01Z'),
                ('r1','c1','a-done',1,1,'t','csharp','e','succeeded','2026-01-01T00:00:01Z'),
                ('r1','g1','c1',1,2,'t','csharp','e','succeeded','2026-01-01T00:00:01Z');
                """);
        }

        var ids = store.GetActions("r1").Select(a => a.Id).ToArray();

        Assert.Equal(["a-done", "c1", "g1", "c2", "a-running"], ids);
    }

    private static void Insert(RunStore store, string name, string host, int pid, string heartbeat, long start = 1)
    {
        using var c = store.Connect();
        Exec(c, $"""
            INSERT INTO runs(name,task,environment,status,url,mode,created_at,owner_host,owner_pid,owner_start,heartbeat_at)
            VALUES('{name}','t','e','running','u','local','2026-01-01T00:00:00Z','{host}',{pid},{start},'{heartbeat}');
            INSERT INTO actions(run_name,id,parent_id,seq,depth,task,kind,environment,status,started_at) VALUES
            ('{name}','a-done',NULL,0,0,'t','csharp','e','succeeded','2026-01-01T00:00:00Z'),
            ('{name}','a-running',NULL,1,0,'t','csharp','e','running','2026-01-01T00:00:02Z');
            """);
    }

    private static int DeadPid()
    {
        using var p = System.Diagnostics.Process.Start("true")!;
        p.WaitForExit();
        return p.Id;
    }

    [Fact]
    public void Read_RowsWrittenBeforeBlobsAndChunks_ReadBackInlineOnPagesAndApi()
    {
        var store = RunStore.Open(Db);
        using (var connection = store.Connect())
        {
            // Exactly what earlier versions wrote: inline outputs and one log row per line.
            Scalar(connection, """
                INSERT INTO runs(name, task, environment, status, inputs, outputs, url, mode, created_at, ended_at, owner_host, owner_pid, owner_start, heartbeat_at)
                VALUES('old-run', 'pipe', 'etl', 'succeeded', '{"n":2}', '[1.5,3.0]', 'u', 'local', '2026-01-01T00:00:00.0000000Z', '2026-01-01T00:00:01.0000000Z', 'h', 1, 0, '2026-01-01T00:00:01.0000000Z');
                INSERT INTO actions(run_name, id, parent_id, seq, depth, task, kind, environment, status, attempts, inputs, outputs, started_at, ended_at)
                VALUES('old-run', 'a1', NULL, 0, 0, 'pipe', 'csharp', 'etl', 'succeeded', 1, '{"n":2}', '[1.5,3.0]', '2026-01-01T00:00:00.0000000Z', '2026-01-01T00:00:01.0000000Z');
                INSERT INTO logs(run_name, action_id, at, stream, line) VALUES('old-run', 'a1', '2026-01-01T00:00:00.0000000Z', 'stdout', 'first');
                INSERT INTO logs(run_name, action_id, at, stream, line) VALUES('old-run', 'a1', '2026-01-01T00:00:00.5000000Z', 'stderr', 'second');
                """);
        }

        var run = store.GetRun("old-run")!;
        var actions = store.GetActions("old-run");
        var logs = store.GetLogs("old-run");
        var page = RunPages.RunPage(store.GetRun("old-run", previewOnly: true)!, store.GetActions("old-run", previewOnly: true), logs);

        Assert.Equal(("[1.5,3.0]", (OutputBlob?)null), (run.OutputsJson, run.OutputsBlob));
        Assert.Equal(("{\"n\":2}", "[1.5,3.0]", (OutputBlob?)null), (actions[0].InputsJson, actions[0].OutputsJson, actions[0].OutputsBlob));
        Assert.Equal([("stdout", "first"), ("stderr", "second")], logs.Select(l => (l.Stream, l.Text)));
        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:00:00.5Z", System.Globalization.CultureInfo.InvariantCulture), logs[1].At);
        Assert.Contains("[1.5,3.0]", page);
        Assert.DoesNotContain("full output", page);
    }

    [Fact]
    public async Task Writer_LinesLongerThanAChunk_SplitIntoBoundedRowsInOrder()
    {
        var store = RunStore.Open(Db);
        store.InsertRun(new RunRecord("r", "t", "e", RunStatus.Running, null, null, null, "u", DateTimeOffset.UnixEpoch, null, null, ExecutionMode.Local), null);
        var longLine = string.Concat(Enumerable.Range(0, 100_000).Select(i => (char)('a' + (i % 26))));
        await using (var writer = new RunStoreWriter(store, "r"))
        {
            writer.Log("a", "stdout", "before", DateTimeOffset.UnixEpoch);
            writer.Log("a", "stdout", longLine, DateTimeOffset.UnixEpoch);
            writer.Log("a", "stderr", "after", DateTimeOffset.UnixEpoch);
        }

        var lines = store.StreamLogs("r", rowsPerPage: 1).ToList();

        Assert.Equal("before", lines[0].Text);
        Assert.Equal(longLine, string.Concat(lines.Skip(1).SkipLast(1).Select(l => l.Text)));
        Assert.All(lines, l => Assert.True(l.Text.Length <= RunStoreWriter.MaxLogChunkChars));
        Assert.Equal(("stderr", "after"), (lines[^1].Stream, lines[^1].Text));
    }

    private static object? Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
