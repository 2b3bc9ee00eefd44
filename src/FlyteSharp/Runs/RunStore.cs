using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FlyteSharp.Tasks;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Runs;

/// <summary>
/// The run database (SQLite in WAL mode): runs, their action trees, logs and the task cache. Several processes
/// may write at once (busy timeout, immediate transactions); a run whose owning process is gone, or whose
/// heartbeat is stale, is marked abandoned when it is read.
/// </summary>
internal sealed class RunStore
{
    /// <summary>The schema version this code writes (PRAGMA user_version).</summary>
    public const int SchemaVersion = 2;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS runs(
          name TEXT PRIMARY KEY, task TEXT NOT NULL, environment TEXT NOT NULL, status TEXT NOT NULL,
          inputs TEXT, outputs TEXT, error TEXT, url TEXT NOT NULL, mode TEXT NOT NULL,
          created_at TEXT NOT NULL, ended_at TEXT,
          owner_host TEXT NOT NULL, owner_pid INTEGER NOT NULL, owner_start INTEGER NOT NULL, heartbeat_at TEXT NOT NULL,
          bundle_digest TEXT, root_dir TEXT, cancel_requested_at TEXT);
        CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);
        CREATE TABLE IF NOT EXISTS actions(
          run_name TEXT NOT NULL, id TEXT NOT NULL, parent_id TEXT, seq INTEGER NOT NULL, depth INTEGER NOT NULL,
          task TEXT NOT NULL, kind TEXT NOT NULL, environment TEXT NOT NULL, status TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0, cache_hit INTEGER NOT NULL DEFAULT 0,
          inputs TEXT, outputs TEXT, error TEXT, started_at TEXT NOT NULL, ended_at TEXT,
          env_vars TEXT, image TEXT, host TEXT, attempt_starts TEXT,
          PRIMARY KEY(run_name, id));
        CREATE TABLE IF NOT EXISTS logs(
          id INTEGER PRIMARY KEY AUTOINCREMENT, run_name TEXT NOT NULL, action_id TEXT NOT NULL,
          at TEXT NOT NULL, stream TEXT NOT NULL, line TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS logs_run ON logs(run_name, action_id, id);
        CREATE TABLE IF NOT EXISTS cache(
          key TEXT PRIMARY KEY, task TEXT NOT NULL, version TEXT NOT NULL, outputs TEXT NOT NULL,
          created_at TEXT NOT NULL, run_name TEXT, action_id TEXT);
        """;

    /// <summary>Upgrades a version 1 database: what each action ran with (env vars, image, where) and when each attempt started.</summary>
    private const string MigrateFrom1 = """
        ALTER TABLE actions ADD COLUMN env_vars TEXT;
        ALTER TABLE actions ADD COLUMN image TEXT;
        ALTER TABLE actions ADD COLUMN host TEXT;
        ALTER TABLE actions ADD COLUMN attempt_starts TEXT;
        ALTER TABLE runs ADD COLUMN cancel_requested_at TEXT;
        """;

    private readonly string _connectionString;

    private RunStore(string path, TimeProvider timeProvider)
    {
        Path = path;
        TimeProvider = timeProvider;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, DefaultTimeout = 30 }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>How old a heartbeat may be before a run owned by another host counts as abandoned.</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How often owners refresh their runs' heartbeat.</summary>
    public static TimeSpan HeartbeatInterval { get; } = TimeSpan.FromSeconds(15);

    /// <summary>This process's identity as a run owner: host, pid and start time (so a reused pid is not mistaken for us).</summary>
    public static (string Host, int Pid, long Start) Self { get; } = CurrentOwner();

    /// <summary>Opens (creating or upgrading) the database at <paramref name="path"/>.</summary>
    public static RunStore Open(string path, TimeProvider? timeProvider = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        if (Directory.Exists(full))
        {
            throw new FlyteSharpException("the run database is a directory", full,
                fix: "point [runs] database (or --db / FLYTESHARP_RUN_DB) at a file, e.g. ~/.flytesharp/runs.db");
        }

        var store = new RunStore(full, timeProvider ?? TimeProvider.System);
        try
        {
            store.Migrate();
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 26 /* SQLITE_NOTADB */ or 11 /* SQLITE_CORRUPT */ or 14 /* SQLITE_CANTOPEN */)
        {
            throw new FlyteSharpException($"cannot open the run database: {ex.Message}", full,
                fix: "point [runs] database (or --db / FLYTESHARP_RUN_DB) at a run database or a new file; move a damaged file away", inner: ex);
        }

        return store;
    }

    public SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static string? ErrorJson(TaskError? error) => error is null ? null : JsonSerializer.Serialize(error, ErrorJsonOptions);

    /// <summary>
    /// The error recorded in an <c>error</c> column. A value this code did not write (hand-edited, or from another
    /// tool) is shown as it is, as an <see cref="UnreadableErrorType"/> error, rather than failing every list that holds it.
    /// </summary>
    public static TaskError? ParseError(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            var error = JsonSerializer.Deserialize<TaskError>(json, ErrorJsonOptions);
            if (error is null || (error.Type is not null && error.Message is not null))
            {
                return error;
            }
        }
        catch (JsonException)
        {
        }

        const int limit = 2000;
        return new TaskError(UnreadableErrorType, "the recorded error is not FlyteSharp's JSON: " + (json.Length > limit ? json[..limit] + "…" : json), null);
    }

    /// <summary>The type given to a recorded error that cannot be read (see <see cref="ParseError"/>).</summary>
    public const string UnreadableErrorType = "UnreadableError";

    /// <summary>Records a new run. Throws when the name is taken.</summary>
    public void InsertRun(RunRecord run, string? rootDir)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO runs(name, task, environment, status, inputs, url, mode, created_at, owner_host, owner_pid, owner_start, heartbeat_at, bundle_digest, root_dir)
            VALUES($name, $task, $env, 'running', $inputs, $url, $mode, $created, $host, $pid, $start, $created, $digest, $root)
            """;
        command.Parameters.AddWithValue("$name", run.Name);
        command.Parameters.AddWithValue("$task", run.Task);
        command.Parameters.AddWithValue("$env", run.Environment);
        command.Parameters.AddWithValue("$inputs", (object?)run.InputsJson ?? DBNull.Value);
        command.Parameters.AddWithValue("$url", run.Url);
        command.Parameters.AddWithValue("$mode", EnumNames.Name(run.Mode));
        command.Parameters.AddWithValue("$created", Time(run.CreatedAt));
        command.Parameters.AddWithValue("$host", Self.Host);
        command.Parameters.AddWithValue("$pid", Self.Pid);
        command.Parameters.AddWithValue("$start", Self.Start);
        command.Parameters.AddWithValue("$digest", (object?)run.BundleDigest ?? DBNull.Value);
        command.Parameters.AddWithValue("$root", (object?)rootDir ?? DBNull.Value);
        try
        {
            command.ExecuteNonQuery();
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
        {
            throw NameTaken(run.Name, Path);
        }
    }

    /// <summary>The error for a run name that is already recorded.</summary>
    public static FlyteSharpException NameTaken(string name, string databasePath) =>
        new($"a run named '{name}' already exists", databasePath, fix: "choose another run name, or leave it unset for a generated one");

    /// <summary>Whether a run named <paramref name="name"/> is recorded (in any state).</summary>
    public bool RunExists(string name)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM runs WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteScalar() is not null;
    }

    /// <summary>Marks every running run whose owner is gone as abandoned; returns the names marked by this call.</summary>
    public IReadOnlyList<string> MarkAbandonedRuns()
    {
        using var connection = Connect();
        return MarkAbandoned(connection, null);
    }

    /// <summary>The most recent runs, newest first (abandoned runs are detected and marked).</summary>
    /// <param name="limit">How many runs.</param>
    /// <param name="previewOnly">Read only a preview of each inline output (see <see cref="GetActions"/>).</param>
    public IReadOnlyList<RunRecord> ListRuns(int limit = 100, bool previewOnly = false)
    {
        using var connection = Connect();
        MarkAbandoned(connection, null);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {RunColumnsOf(previewOnly)} FROM runs ORDER BY created_at DESC, name LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        return ReadRuns(command);
    }

    /// <summary>One page of runs matching <paramref name="query"/>, newest first (abandoned runs are detected and marked).</summary>
    /// <exception cref="FlyteSharpException">The cursor is not one this store handed out.</exception>
    public RunPage ListRuns(RunQuery query)
    {
        using var connection = Connect();
        MarkAbandoned(connection, null);
        using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.Status is { } status)
        {
            where.Add("status = $status");
            command.Parameters.AddWithValue("$status", Text(status));
        }

        if (!string.IsNullOrEmpty(query.Task))
        {
            where.Add("instr(lower(task), lower($task)) > 0");
            command.Parameters.AddWithValue("$task", query.Task);
        }

        if (query.Since is { } since)
        {
            where.Add("created_at >= $since");
            command.Parameters.AddWithValue("$since", Time(since));
        }

        if (query.Until is { } until)
        {
            where.Add("created_at < $until");
            command.Parameters.AddWithValue("$until", Time(until));
        }

        if (query.Before is { } cursor)
        {
            // The cursor is "created_at|name" of the last run shown: the next page continues strictly after it in list order.
            var bar = cursor.IndexOf('|', StringComparison.Ordinal);
            if (bar <= 0 || !DateTimeOffset.TryParse(cursor[..bar], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            {
                throw new FlyteSharpException($"'{cursor}' is not a run list cursor", fix: "use the 'next' value of a previous page");
            }

            where.Add("(created_at < $cursorTime OR (created_at = $cursorTime AND name > $cursorName))");
            command.Parameters.AddWithValue("$cursorTime", cursor[..bar]);
            command.Parameters.AddWithValue("$cursorName", cursor[(bar + 1)..]);
        }

        var limit = Math.Clamp(query.Limit, 1, 1000);
        command.CommandText = $"SELECT {RunColumnsOf(previewOnly: true)} FROM runs {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))} ORDER BY created_at DESC, name LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit + 1);
        var runs = ReadRuns(command);
        if (runs.Count <= limit)
        {
            return new RunPage(runs, null);
        }

        runs.RemoveAt(limit);
        return new RunPage(runs, $"{Time(runs[^1].CreatedAt)}|{runs[^1].Name}");
    }

    /// <summary>A run's log lines after row <paramref name="after"/> (0: from the start), optionally of one action, from at most <paramref name="limit"/> rows.</summary>
    public IReadOnlyList<NumberedLogLine> GetLogsAfter(string runName, string? actionId, long after, int limit)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, action_id, at, stream, line FROM logs
            WHERE run_name = $run AND ($action IS NULL OR action_id = $action) AND id > $after ORDER BY id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$run", runName);
        command.Parameters.AddWithValue("$action", (object?)actionId ?? DBNull.Value);
        command.Parameters.AddWithValue("$after", after);
        command.Parameters.AddWithValue("$limit", Math.Clamp(limit, 1, 100_000));
        var result = new List<NumberedLogLine>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            // A chunk row holds one or more lines joined by '\n': its lines share the row's number.
            var number = reader.GetInt64(0);
            var at = ParseTime(reader.GetString(2));
            foreach (var text in reader.GetString(4).Split('\n'))
            {
                result.Add(new NumberedLogLine(number, new LogLine(reader.GetString(1), at, reader.GetString(3), text)));
            }
        }

        return result;
    }

    /// <summary>
    /// Asks the process running <paramref name="name"/> to cancel it (it polls for this; see <see cref="IsCancelRequested"/>).
    /// False when the run is not running.
    /// </summary>
    public bool RequestCancel(string name)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, $now) WHERE name = $name AND status = 'running'";
        command.Parameters.AddWithValue("$now", Time(TimeProvider.GetUtcNow()));
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteNonQuery() > 0;
    }

    /// <summary>True when someone asked for <paramref name="name"/> to be cancelled (<c>flytesharp runs abort</c>).</summary>
    public bool IsCancelRequested(string name)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT cancel_requested_at IS NOT NULL FROM runs WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture) != 0;
    }

    /// <summary>One run, or null when no run has that name.</summary>
    /// <param name="name">The run's name.</param>
    /// <param name="previewOnly">Read only a preview of the inline output (see <see cref="GetActions"/>).</param>
    public RunRecord? GetRun(string name, bool previewOnly = false)
    {
        using var connection = Connect();
        MarkAbandoned(connection, name);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {RunColumnsOf(previewOnly)} FROM runs WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return ReadRuns(command).SingleOrDefault();
    }

    /// <summary>A run's actions, parents before children, siblings in call order.</summary>
    /// <param name="runName">The run.</param>
    /// <param name="previewOnly">
    /// Read only the first <see cref="OutputColumn.PreviewChars"/> characters of each inline output (and of the inputs):
    /// pages and <c>runs show</c> of a run with many large outputs stay small. <see cref="ActionRecord.OutputsLength"/> then says how long the whole was.
    /// </param>
    public IReadOnlyList<ActionRecord> GetActions(string runName, bool previewOnly = false)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT id, parent_id, seq, depth, task, kind, environment, status, attempts, cache_hit, {Column("inputs", previewOnly)}, {Column("outputs", previewOnly)}, error, started_at, ended_at,
              length(inputs), length(outputs), env_vars, image, host, attempt_starts
            FROM actions WHERE run_name = $run ORDER BY depth, started_at, seq
            """;
        command.Parameters.AddWithValue("$run", runName);
        var result = new List<ActionRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var (outputs, blob) = OutputColumn.Parse(Nullable(reader, 11));
            var (inputs, inputsBlob) = OutputColumn.Parse(Nullable(reader, 10));
            result.Add(new ActionRecord(
                reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3),
                reader.GetString(4), TaskKinds.Parse(reader.GetString(5)), reader.GetString(6), ParseActionStatus(reader.GetString(7)),
                reader.GetInt32(8), reader.GetInt32(9) != 0, inputs, outputs, ParseError(Nullable(reader, 12)),
                ParseTime(reader.GetString(13)), reader.IsDBNull(14) ? null : ParseTime(reader.GetString(14)))
            {
                InputsBlob = inputsBlob,
                OutputsBlob = blob,
                OutputsLength = outputs is not null && !reader.IsDBNull(16) ? reader.GetInt64(16) : null,
                EnvVars = Nullable(reader, 17) is { } env ? JsonSerializer.Deserialize<SortedDictionary<string, string>>(env)! : EmptyEnvVars,
                Image = Nullable(reader, 18),
                Host = Nullable(reader, 19),
                AttemptStartedAt = Nullable(reader, 20) is { } starts ? JsonSerializer.Deserialize<string[]>(starts)!.Select(ParseTime).ToArray() : [],
            });
        }

        return TreeOrder(result);
    }

    /// <summary>One action's whole output column (inline JSON or a blob reference), or null when the action (or its output) is missing.</summary>
    public (string? Json, OutputBlob? Blob)? GetActionOutput(string runName, string actionId)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT outputs FROM actions WHERE run_name = $run AND id = $id";
        command.Parameters.AddWithValue("$run", runName);
        command.Parameters.AddWithValue("$id", actionId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? OutputColumn.Parse(Nullable(reader, 0)) : null;
    }

    /// <summary>True when the run has an action with this id.</summary>
    public bool HasAction(string runName, string actionId)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM actions WHERE run_name = $run AND id = $id";
        command.Parameters.AddWithValue("$run", runName);
        command.Parameters.AddWithValue("$id", actionId);
        return command.ExecuteScalar() is not null;
    }

    /// <summary>A run's log lines, optionally of one action, in the order they were written (all of them: prefer <see cref="StreamLogs"/>).</summary>
    public IReadOnlyList<LogLine> GetLogs(string runName, string? actionId = null) => StreamLogs(runName, actionId).ToList();

    /// <summary>
    /// A run's log lines read page by page (a bounded number of chunk rows per query, no transaction held between
    /// pages), so a 100 MB log is never in memory at once.
    /// </summary>
    public IEnumerable<LogLine> StreamLogs(string runName, string? actionId = null, int rowsPerPage = LogRowsPerPage)
    {
        long after = 0;
        while (true)
        {
            var page = ReadLogPage(runName, actionId, after, rowsPerPage);
            foreach (var line in page.Lines)
            {
                yield return line;
            }

            if (page.Rows < rowsPerPage)
            {
                yield break;
            }

            after = page.LastRowId;
        }
    }

    /// <summary>
    /// One page of log lines: the chunk rows after row <paramref name="afterRowId"/> (at most <paramref name="maxRows"/>,
    /// each at most <see cref="RunStoreWriter.MaxLogChunkChars"/> characters), split into lines.
    /// </summary>
    public LogPage ReadLogPage(string runName, string? actionId, long afterRowId, int maxRows)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, action_id, at, stream, line FROM logs
            WHERE run_name = $run AND ($action IS NULL OR action_id = $action) AND id > $after ORDER BY id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$run", runName);
        command.Parameters.AddWithValue("$action", (object?)actionId ?? DBNull.Value);
        command.Parameters.AddWithValue("$after", afterRowId);
        command.Parameters.AddWithValue("$limit", maxRows);
        var lines = new List<LogLine>();
        var rows = 0;
        var last = afterRowId;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows++;
            last = reader.GetInt64(0);
            var action = reader.GetString(1);
            var at = ParseTime(reader.GetString(2));
            var stream = reader.GetString(3);

            // A chunk row holds one or more lines joined by '\n' (rows written before chunking hold exactly one).
            foreach (var line in reader.GetString(4).Split('\n'))
            {
                lines.Add(new LogLine(action, at, stream, line));
            }
        }

        return new LogPage(lines, rows, last);
    }

    /// <summary>The cached output JSON for <paramref name="key"/>, or null.</summary>
    public string? TryGetCached(string key)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT outputs FROM cache WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    internal static ExecutionMode ParseMode(string text) =>
        EnumNames.TryParse<ExecutionMode>(text, out var mode) ? mode : throw new InvalidDataException($"unknown run mode '{text}' (expected {EnumNames.Allowed<ExecutionMode>()})");

    internal static ActionStatus ParseActionStatus(string text) => text switch
    {
        "running" => ActionStatus.Running,
        "succeeded" => ActionStatus.Succeeded,
        "failed" => ActionStatus.Failed,
        "timed_out" => ActionStatus.TimedOut,
        "cached" => ActionStatus.Cached,
        "cancelled" => ActionStatus.Cancelled,
        "abandoned" => ActionStatus.Abandoned,
        _ => throw new InvalidDataException($"unknown action status '{text}'"),
    };

    internal static string Text(ActionStatus status) => status switch
    {
        ActionStatus.TimedOut => "timed_out",
        _ => status.ToString().ToLowerInvariant(),
    };

    internal static string Text(RunStatus status) => status.ToString().ToLowerInvariant();

    private static readonly IReadOnlyDictionary<string, string> EmptyEnvVars = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Log chunk rows per page read.</summary>
    public const int LogRowsPerPage = 32;

    private static string RunColumnsOf(bool previewOnly) =>
        $"name, task, environment, status, {Column("inputs", previewOnly)}, {Column("outputs", previewOnly)}, error, url, created_at, ended_at, bundle_digest, mode, length(outputs)";

    private static string Column(string name, bool previewOnly) =>
        previewOnly ? $"CASE WHEN {name} LIKE '@blob %' THEN {name} ELSE substr({name}, 1, {OutputColumn.PreviewChars}) END" : name;

    private static readonly JsonSerializerOptions ErrorJsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static List<ActionRecord> TreeOrder(List<ActionRecord> actions)
    {
        var children = actions.ToLookup(a => a.ParentId ?? "");
        var ordered = new List<ActionRecord>(actions.Count);
        var stack = new Stack<ActionRecord>(children[""].OrderByDescending(a => a.Sequence));
        while (stack.TryPop(out var action))
        {
            ordered.Add(action);
            foreach (var child in children[action.Id].OrderByDescending(a => a.Sequence))
            {
                stack.Push(child);
            }
        }

        return ordered;
    }

    private static string? Nullable(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static List<RunRecord> ReadRuns(SqliteCommand command)
    {
        var result = new List<RunRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var (outputs, blob) = OutputColumn.Parse(Nullable(reader, 5));
            var (inputs, inputsBlob) = OutputColumn.Parse(Nullable(reader, 4));
            result.Add(new RunRecord(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), Enum.Parse<RunStatus>(reader.GetString(3), ignoreCase: true),
                inputs, outputs, ParseError(Nullable(reader, 6)), reader.GetString(7),
                ParseTime(reader.GetString(8)), reader.IsDBNull(9) ? null : ParseTime(reader.GetString(9)), Nullable(reader, 10), ParseMode(reader.GetString(11)))
            {
                InputsBlob = inputsBlob,
                OutputsBlob = blob,
                OutputsLength = outputs is not null && !reader.IsDBNull(12) ? reader.GetInt64(12) : null,
            });
        }

        return result;
    }

    private void Migrate()
    {
        using var connection = Connect();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            wal.ExecuteNonQuery();
        }

        using var transaction = connection.BeginTransaction(deferred: false);
        using var version = connection.CreateCommand();
        version.Transaction = transaction;
        version.CommandText = "PRAGMA user_version;";
        var current = Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (current > SchemaVersion)
        {
            throw new FlyteSharpException($"the run database has schema version {current}, newer than this FlyteSharp understands ({SchemaVersion})", Path,
                fix: "upgrade FlyteSharp, or point [runs] database / FLYTESHARP_RUN_DB at another file");
        }

        if (current < SchemaVersion)
        {
            using var create = connection.CreateCommand();
            create.Transaction = transaction;
            create.CommandText = (current == 1 ? MigrateFrom1 : Schema) + $"PRAGMA user_version = {SchemaVersion};";
            create.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>
    /// Marks running runs whose owner is gone (same host: pid dead or reused; other host: stale heartbeat) as abandoned.
    /// Their end is the last sign of life (heartbeat, action start or end), not the moment someone noticed, so the
    /// recorded duration of a killed run does not depend on when it was next read.
    /// </summary>
    private List<string> MarkAbandoned(SqliteConnection connection, string? name)
    {
        var marked = new List<string>();
        var candidates = new List<(string Name, string Host, int Pid, long Start, DateTimeOffset Heartbeat)>();
        using (var query = connection.CreateCommand())
        {
            query.CommandText = "SELECT name, owner_host, owner_pid, owner_start, heartbeat_at FROM runs WHERE status = 'running' AND ($name IS NULL OR name = $name)";
            query.Parameters.AddWithValue("$name", (object?)name ?? DBNull.Value);
            using var reader = query.ExecuteReader();
            while (reader.Read())
            {
                candidates.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt64(3), ParseTime(reader.GetString(4))));
            }
        }

        var now = TimeProvider.GetUtcNow();
        foreach (var run in candidates)
        {
            string? reason = null;
            if (run.Host == Self.Host)
            {
                if (!IsAlive(run.Pid, run.Start))
                {
                    reason = $"the process that ran it (pid {run.Pid} on {run.Host}) is gone";
                }
            }
            else if (now - run.Heartbeat > StaleAfter)
            {
                reason = $"no heartbeat from {run.Host} (pid {run.Pid}) since {Time(run.Heartbeat)}";
            }

            if (reason is null)
            {
                continue;
            }

            using var transaction = connection.BeginTransaction(deferred: false);
            string lastSign;
            using (var last = connection.CreateCommand())
            {
                last.Transaction = transaction;
                last.CommandText = """
                    SELECT MAX(t) FROM (
                      SELECT heartbeat_at AS t FROM runs WHERE name = $name
                      UNION ALL SELECT MAX(COALESCE(ended_at, started_at)) FROM actions WHERE run_name = $name)
                    """;
                last.Parameters.AddWithValue("$name", run.Name);
                lastSign = last.ExecuteScalar() as string ?? Time(now);
            }

            var end = string.CompareOrdinal(Time(now), lastSign) < 0 ? Time(now) : lastSign;
            using var update = connection.CreateCommand();
            update.Transaction = transaction;
            update.CommandText = """
                UPDATE runs SET status = 'abandoned', ended_at = $end, error = $error WHERE name = $name AND status = 'running';
                UPDATE actions SET status = 'abandoned', ended_at = $end WHERE run_name = $name AND status = 'running';
                """;
            update.Parameters.AddWithValue("$end", end);
            update.Parameters.AddWithValue("$name", run.Name);
            update.Parameters.AddWithValue("$error", ErrorJson(new TaskError("Abandoned", $"run abandoned: {reason}", null)));
            if (update.ExecuteNonQuery() > 0)
            {
                marked.Add(run.Name);
            }

            transaction.Commit();
        }

        return marked;
    }

    /// <summary>The driver process recorded as running run <paramref name="name"/>, and whether it still runs; null when unknown.</summary>
    internal (string Host, int Pid, long Start, bool Running)? OwnerOf(string name)
    {
        using var connection = Connect();
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT owner_host, owner_pid, owner_start, status FROM runs WHERE name = $name";
        query.Parameters.AddWithValue("$name", name);
        using var reader = query.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetString(3) == Text(RunStatus.Running)) : null;
    }

    /// <summary>Whether the process <paramref name="pid"/> that started at <paramref name="start"/> (ticks, UTC) still runs on this host.</summary>
    internal static bool IsAlive(int pid, long start)
    {
        if (pid == Self.Pid && start == Self.Start)
        {
            return true;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            // Linux derives start times from boot time, which jitters between reads: compare loosely, pid reuse within 2 s is not a concern.
            return !process.HasExited && Math.Abs(process.StartTime.ToUniversalTime().Ticks - start) < TimeSpan.TicksPerSecond * 2;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static (string, int, long) CurrentOwner()
    {
        using var self = Process.GetCurrentProcess();
        return (Environment.MachineName, self.Id, self.StartTime.ToUniversalTime().Ticks);
    }
}
