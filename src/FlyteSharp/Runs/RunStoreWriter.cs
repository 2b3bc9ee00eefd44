using System.Threading.Channels;
using FlyteSharp.Tasks;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Runs;

/// <summary>
/// Writes one run's records from a queue on a background task, many per transaction: a fan-out of thousands
/// of actions costs a few commits, not thousands. Every commit leaves the database consistent, so a killed
/// process loses at most the last unflushed batch and never leaves half a record.
/// Log lines are stored in bounded chunks (consecutive lines of one action and stream share a row of at most
/// <see cref="MaxLogChunkChars"/> characters; a longer line is cut into pieces), and a producer that writes logs
/// faster than the database takes them waits once <see cref="MaxQueuedLogChars"/> are queued, so a task printing
/// 100 MB never holds 100 MB in this process.
/// </summary>
internal sealed class RunStoreWriter : IAsyncDisposable
{
    /// <summary>The most characters one log row holds.</summary>
    public const int MaxLogChunkChars = 32 * 1024;

    /// <summary>How many characters of log lines may wait in the queue before <see cref="Log"/> blocks.</summary>
    public const long MaxQueuedLogChars = 1024 * 1024;

    private const int MaxBatch = 4096;
    private readonly object _drained = new();
    private long _queuedLogChars;
    private volatile bool _loopEnded;
    private readonly RunStore _store;
    private readonly string _runName;
    private readonly Channel<Op> _queue = Channel.CreateUnbounded<Op>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private readonly ITimer _heartbeat;
    private Exception? _fault;

    public RunStoreWriter(RunStore store, string runName)
    {
        _store = store;
        _runName = runName;
        _loop = Task.Run(LoopAsync);
        _heartbeat = store.TimeProvider.CreateTimer(_ => Enqueue(new Heartbeat(store.TimeProvider.GetUtcNow())), null,
            RunStore.HeartbeatInterval, RunStore.HeartbeatInterval);
    }

    public void ActionStarted(string id, string? parentId, int sequence, int depth, string task, TaskKind kind, string environment, string inputsJson, DateTimeOffset at,
        IReadOnlyDictionary<string, string>? envVars = null) =>
        Enqueue(new ActionStart(id, parentId, sequence, depth, task, kind, environment, inputsJson, at,
            envVars is null || envVars.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(envVars)));

    /// <summary>An attempt of an action started running (it holds a concurrency slot).</summary>
    public void AttemptStarted(string id, int attempt, DateTimeOffset at) => Enqueue(new AttemptStart(id, attempt, at));

    /// <summary>Where an action runs: the image (null for this machine) and the process, container or pod.</summary>
    public void ActionPlaced(string id, string? image, string host) => Enqueue(new ActionPlace(id, image, host));

    public void ActionFinished(string id, ActionStatus status, int attempts, bool cacheHit, string? outputsJson, TaskError? error, DateTimeOffset at) =>
        Enqueue(new ActionEnd(id, RunStore.Text(status), attempts, cacheHit, outputsJson, RunStore.ErrorJson(error), at));

    public void Log(string actionId, string stream, string line, DateTimeOffset at)
    {
        for (var start = 0; start == 0 || start < line.Length; start += MaxLogChunkChars)
        {
            var piece = line.Length <= MaxLogChunkChars ? line : line.Substring(start, Math.Min(MaxLogChunkChars, line.Length - start));
            WaitForLogRoom();
            Interlocked.Add(ref _queuedLogChars, piece.Length);
            if (!_queue.Writer.TryWrite(new LogOp(actionId, stream, piece, at)))
            {
                Interlocked.Add(ref _queuedLogChars, -piece.Length);
                return;
            }
        }
    }

    public void CachePut(string key, string task, string version, string outputsJson, string actionId, DateTimeOffset at) =>
        Enqueue(new CacheOp(key, task, version, outputsJson, actionId, at));

    public void RunFinished(RunStatus status, string? outputsJson, TaskError? error, DateTimeOffset at) =>
        Enqueue(new RunEnd(RunStore.Text(status), outputsJson, RunStore.ErrorJson(error), at));

    /// <summary>Waits until everything queued so far is committed.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new FlushOp(done));
        return done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await _heartbeat.DisposeAsync().ConfigureAwait(false);
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        if (_fault is not null)
        {
            throw new FlyteSharpException($"could not write run '{_runName}' to the run store: {_fault.Message}", _store.Path,
                fix: "check that the database file is writable and the disk is not full", inner: _fault);
        }
    }

    private void Enqueue(Op op)
    {
        if (!_queue.Writer.TryWrite(op) && op is FlushOp f)
        {
            f.Done.TrySetResult();
        }
    }

    private void WaitForLogRoom()
    {
        if (Interlocked.Read(ref _queuedLogChars) <= MaxQueuedLogChars)
        {
            return;
        }

        lock (_drained)
        {
            while (Interlocked.Read(ref _queuedLogChars) > MaxQueuedLogChars && !_loopEnded)
            {
                Monitor.Wait(_drained, TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private void Drained(List<Op> batch)
    {
        var chars = 0L;
        foreach (var op in batch)
        {
            if (op is LogOp l)
            {
                chars += l.Line.Length;
            }
        }

        if (chars > 0)
        {
            Interlocked.Add(ref _queuedLogChars, -chars);
            lock (_drained)
            {
                Monitor.PulseAll(_drained);
            }
        }
    }

    private async Task LoopAsync()
    {
        try
        {
            await LoopCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _loopEnded = true;
            lock (_drained)
            {
                Monitor.PulseAll(_drained);
            }
        }
    }

    private async Task LoopCoreAsync()
    {
        using var connection = _store.Connect();
        var commands = new Commands(connection);
        var batch = new List<Op>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var op))
            {
                batch.Add(op);
            }

            if (_fault is null)
            {
                try
                {
                    await CommitAsync(connection, commands, batch).ConfigureAwait(false);
                }
                catch (SqliteException ex)
                {
                    _fault = ex;
                }
            }

            Drained(batch);
            foreach (var flush in batch.OfType<FlushOp>())
            {
                if (_fault is null)
                {
                    flush.Done.TrySetResult();
                }
                else
                {
                    flush.Done.TrySetException(_fault);
                }
            }
        }

        commands.Dispose();
    }

    private async Task CommitAsync(SqliteConnection connection, Commands commands, List<Op> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                commands.Bind(transaction);
                var chunk = new LogChunk();
                foreach (var op in batch)
                {
                    if (op is LogOp l)
                    {
                        if (!chunk.TryAppend(l))
                        {
                            WriteChunk(commands, chunk);
                            chunk.Start(l);
                        }

                        continue;
                    }

                    WriteChunk(commands, chunk);
                    Execute(commands, op);
                }

                WriteChunk(commands, chunk);

                transaction.Commit();
                return;
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is 5 or 6 && attempt < 5)
            {
                // Busy beyond the busy timeout: another process holds the write lock for long; try again.
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), _store.TimeProvider).ConfigureAwait(false);
            }
        }
    }

    private void Execute(Commands c, Op op)
    {
        switch (op)
        {
            case ActionStart s:
                c.ActionStart.Parameters["$run"].Value = _runName;
                c.ActionStart.Parameters["$id"].Value = s.Id;
                c.ActionStart.Parameters["$parent"].Value = (object?)s.ParentId ?? DBNull.Value;
                c.ActionStart.Parameters["$seq"].Value = s.Sequence;
                c.ActionStart.Parameters["$depth"].Value = s.Depth;
                c.ActionStart.Parameters["$task"].Value = s.Task;
                c.ActionStart.Parameters["$kind"].Value = TaskKinds.Name(s.Kind);
                c.ActionStart.Parameters["$env"].Value = s.Environment;
                c.ActionStart.Parameters["$inputs"].Value = s.InputsJson;
                c.ActionStart.Parameters["$at"].Value = RunStore.Time(s.At);
                c.ActionStart.Parameters["$envvars"].Value = (object?)s.EnvVarsJson ?? DBNull.Value;
                c.ActionStart.ExecuteNonQuery();
                break;
            case AttemptStart a:
                c.AttemptStart.Parameters["$run"].Value = _runName;
                c.AttemptStart.Parameters["$id"].Value = a.Id;
                c.AttemptStart.Parameters["$attempt"].Value = a.Attempt;
                c.AttemptStart.Parameters["$at"].Value = RunStore.Time(a.At);
                c.AttemptStart.ExecuteNonQuery();
                break;
            case ActionPlace p:
                c.ActionPlace.Parameters["$run"].Value = _runName;
                c.ActionPlace.Parameters["$id"].Value = p.Id;
                c.ActionPlace.Parameters["$image"].Value = (object?)p.Image ?? DBNull.Value;
                c.ActionPlace.Parameters["$host"].Value = p.Host;
                c.ActionPlace.ExecuteNonQuery();
                break;
            case ActionEnd e:
                c.ActionEnd.Parameters["$run"].Value = _runName;
                c.ActionEnd.Parameters["$id"].Value = e.Id;
                c.ActionEnd.Parameters["$status"].Value = e.Status;
                c.ActionEnd.Parameters["$attempts"].Value = e.Attempts;
                c.ActionEnd.Parameters["$cache"].Value = e.CacheHit ? 1 : 0;
                c.ActionEnd.Parameters["$outputs"].Value = (object?)e.OutputsJson ?? DBNull.Value;
                c.ActionEnd.Parameters["$error"].Value = (object?)e.ErrorJson ?? DBNull.Value;
                c.ActionEnd.Parameters["$at"].Value = RunStore.Time(e.At);
                c.ActionEnd.ExecuteNonQuery();
                break;
            case CacheOp k:
                c.Cache.Parameters["$key"].Value = k.Key;
                c.Cache.Parameters["$task"].Value = k.Task;
                c.Cache.Parameters["$version"].Value = k.Version;
                c.Cache.Parameters["$outputs"].Value = k.OutputsJson;
                c.Cache.Parameters["$at"].Value = RunStore.Time(k.At);
                c.Cache.Parameters["$run"].Value = _runName;
                c.Cache.Parameters["$action"].Value = k.ActionId;
                c.Cache.ExecuteNonQuery();
                break;
            case RunEnd r:
                c.RunEnd.Parameters["$run"].Value = _runName;
                c.RunEnd.Parameters["$status"].Value = r.Status;
                c.RunEnd.Parameters["$outputs"].Value = (object?)r.OutputsJson ?? DBNull.Value;
                c.RunEnd.Parameters["$error"].Value = (object?)r.ErrorJson ?? DBNull.Value;
                c.RunEnd.Parameters["$at"].Value = RunStore.Time(r.At);
                c.RunEnd.ExecuteNonQuery();
                break;
            case Heartbeat h:
                c.Heartbeat.Parameters["$run"].Value = _runName;
                c.Heartbeat.Parameters["$at"].Value = RunStore.Time(h.At);
                c.Heartbeat.ExecuteNonQuery();
                break;
            case FlushOp:
                break;
        }
    }

    private void WriteChunk(Commands c, LogChunk chunk)
    {
        if (chunk.First is not { } first)
        {
            return;
        }

        c.Log.Parameters["$run"].Value = _runName;
        c.Log.Parameters["$action"].Value = first.ActionId;
        c.Log.Parameters["$at"].Value = RunStore.Time(first.At);
        c.Log.Parameters["$stream"].Value = first.Stream;
        c.Log.Parameters["$line"].Value = chunk.Text.ToString();
        c.Log.ExecuteNonQuery();
        chunk.Clear();
    }

    /// <summary>Consecutive lines of one action and stream joined by '\n', up to <see cref="MaxLogChunkChars"/> characters.</summary>
    private sealed class LogChunk
    {
        public LogOp? First { get; private set; }

        public System.Text.StringBuilder Text { get; } = new();

        public bool TryAppend(LogOp line)
        {
            if (First is null)
            {
                Start(line);
                return true;
            }

            if (First.ActionId != line.ActionId || First.Stream != line.Stream || Text.Length + 1 + line.Line.Length > MaxLogChunkChars)
            {
                return false;
            }

            Text.Append('\n').Append(line.Line);
            return true;
        }

        public void Start(LogOp line)
        {
            First = line;
            Text.Clear().Append(line.Line);
        }

        public void Clear()
        {
            First = null;
            Text.Clear();
        }
    }

    private sealed class Commands(SqliteConnection connection) : IDisposable
    {
        public SqliteCommand ActionStart { get; } = Create(connection, """
            INSERT INTO actions(run_name, id, parent_id, seq, depth, task, kind, environment, status, inputs, started_at, env_vars)
            VALUES($run, $id, $parent, $seq, $depth, $task, $kind, $env, 'running', $inputs, $at, $envvars)
            """, "$run", "$id", "$parent", "$seq", "$depth", "$task", "$kind", "$env", "$inputs", "$at", "$envvars");

        public SqliteCommand AttemptStart { get; } = Create(connection, """
            UPDATE actions SET attempts = MAX(attempts, $attempt), attempt_starts = json_insert(COALESCE(attempt_starts, '[]'), '$[#]', $at)
            WHERE run_name = $run AND id = $id
            """, "$run", "$id", "$attempt", "$at");

        public SqliteCommand ActionPlace { get; } = Create(connection,
            "UPDATE actions SET image = $image, host = $host WHERE run_name = $run AND id = $id", "$run", "$id", "$image", "$host");

        public SqliteCommand ActionEnd { get; } = Create(connection, """
            UPDATE actions SET status = $status, attempts = $attempts, cache_hit = $cache, outputs = $outputs, error = $error, ended_at = $at
            WHERE run_name = $run AND id = $id
            """, "$run", "$id", "$status", "$attempts", "$cache", "$outputs", "$error", "$at");

        public SqliteCommand Log { get; } = Create(connection,
            "INSERT INTO logs(run_name, action_id, at, stream, line) VALUES($run, $action, $at, $stream, $line)",
            "$run", "$action", "$at", "$stream", "$line");

        public SqliteCommand Cache { get; } = Create(connection, """
            INSERT OR REPLACE INTO cache(key, task, version, outputs, created_at, run_name, action_id)
            VALUES($key, $task, $version, $outputs, $at, $run, $action)
            """, "$key", "$task", "$version", "$outputs", "$at", "$run", "$action");

        // Actions still running when their run ends (a parent stopped waiting for them: cancellation, a sibling's failure)
        // end with it: their own end may never be written once the run's writer has closed.
        public SqliteCommand RunEnd { get; } = Create(connection, """
            UPDATE runs SET status = $status, outputs = $outputs, error = $error, ended_at = $at, heartbeat_at = $at WHERE name = $run;
            UPDATE actions SET status = 'cancelled', ended_at = $at WHERE run_name = $run AND status = 'running';
            """, "$run", "$status", "$outputs", "$error", "$at");

        public SqliteCommand Heartbeat { get; } = Create(connection,
            "UPDATE runs SET heartbeat_at = $at WHERE name = $run AND status = 'running'", "$run", "$at");

        public void Bind(SqliteTransaction transaction)
        {
            foreach (var command in All)
            {
                command.Transaction = transaction;
            }
        }

        public void Dispose()
        {
            foreach (var command in All)
            {
                command.Dispose();
            }
        }

        private IEnumerable<SqliteCommand> All => [ActionStart, AttemptStart, ActionPlace, ActionEnd, Log, Cache, RunEnd, Heartbeat];

        private static SqliteCommand Create(SqliteConnection connection, string sql, params string[] parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var p in parameters)
            {
                command.Parameters.Add(new SqliteParameter(p, null));
            }

            return command;
        }
    }

    private abstract record Op;

    private sealed record ActionStart(string Id, string? ParentId, int Sequence, int Depth, string Task, TaskKind Kind, string Environment, string InputsJson, DateTimeOffset At,
        string? EnvVarsJson) : Op;

    private sealed record AttemptStart(string Id, int Attempt, DateTimeOffset At) : Op;

    private sealed record ActionPlace(string Id, string? Image, string Host) : Op;

    private sealed record ActionEnd(string Id, string Status, int Attempts, bool CacheHit, string? OutputsJson, string? ErrorJson, DateTimeOffset At) : Op;

    private sealed record LogOp(string ActionId, string Stream, string Line, DateTimeOffset At) : Op;

    private sealed record CacheOp(string Key, string Task, string Version, string OutputsJson, string ActionId, DateTimeOffset At) : Op;

    private sealed record RunEnd(string Status, string? OutputsJson, string? ErrorJson, DateTimeOffset At) : Op;

    private sealed record Heartbeat(DateTimeOffset At) : Op;

    private sealed record FlushOp(TaskCompletionSource Done) : Op;
}
