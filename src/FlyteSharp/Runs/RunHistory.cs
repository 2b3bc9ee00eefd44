using System.Text;
using FlyteSharp.Configuration;

namespace FlyteSharp.Runs;

/// <summary>
/// The runs a runtime's run store has recorded (<see cref="FlyteRuntime.Runs"/>): list and read them, follow their logs,
/// read whole outputs and ask a running one to stop, from any process. Everything it returns is a read-only snapshot.
/// </summary>
public sealed class RunHistory
{
    /// <summary>How many log rows <see cref="LogsAfter"/> reads by default (a row holds one or more lines, which share its number).</summary>
    public const int LogRowsPerPage = RunStore.LogRowsPerPage;

    private readonly RunStore _store;
    private readonly FlyteConfig _config;

    internal RunHistory(RunStore store, FlyteConfig config)
    {
        _store = store;
        _config = config;
    }

    /// <summary>The full path of the run database.</summary>
    public string DatabasePath => _store.Path;

    /// <summary>The newest runs first, at most <paramref name="limit"/> of them.</summary>
    /// <param name="limit">How many runs to return.</param>
    public IReadOnlyList<RunRecord> List(int limit = 100) => _store.ListRuns(limit);

    /// <summary>One run, or null when no run has that name. A run whose process is gone is marked abandoned on the way.</summary>
    /// <param name="name">The run's name.</param>
    /// <param name="previewOnly">Read only the start of a large inline output (<see cref="RunRecord.OutputsLength"/> then says how long the whole is).</param>
    public RunRecord? Find(string name, bool previewOnly = false) => _store.GetRun(name, previewOnly);

    /// <summary>A run's actions, parents before children, siblings in call order (empty for an unknown run).</summary>
    /// <param name="runName">The run.</param>
    /// <param name="previewOnly">Read only the start of each large inline input and output.</param>
    public IReadOnlyList<ActionRecord> Actions(string runName, bool previewOnly = false) => _store.GetActions(runName, previewOnly);

    /// <summary>True when the run has an action with this id.</summary>
    /// <param name="runName">The run.</param>
    /// <param name="actionId">The action's id.</param>
    public bool HasAction(string runName, string actionId) => _store.HasAction(runName, actionId);

    /// <summary>A run's captured lines after line number <paramref name="after"/> (0: from the start), optionally of one action; for following a live run.</summary>
    /// <param name="runName">The run.</param>
    /// <param name="actionId">Only this action's lines, or null for all.</param>
    /// <param name="after">The last <see cref="NumberedLogLine.Number"/> already seen.</param>
    /// <param name="limit">At most this many log rows.</param>
    public IReadOnlyList<NumberedLogLine> LogsAfter(string runName, string? actionId, long after, int limit = LogRowsPerPage) =>
        _store.GetLogsAfter(runName, actionId, after, limit);

    /// <summary>
    /// Asks the process running <paramref name="name"/> to cancel it: it stops its containers and pods and records the run
    /// cancelled. False when the run is not running.
    /// </summary>
    /// <param name="name">The run's name.</param>
    public bool RequestCancel(string name) => _store.RequestCancel(name);

    /// <summary>
    /// Opens the whole output JSON of a run (or of one of its actions), however large: inline outputs from the database,
    /// blob outputs from the store they were put in. Null when there is no output (not finished, failed, or no such
    /// run or action).
    /// </summary>
    /// <param name="runName">The run.</param>
    /// <param name="actionId">An action's id, or null for the run's root output.</param>
    /// <param name="cancellationToken">Stops a download from an <c>oci://</c> store.</param>
    /// <exception cref="FlyteSharpException">The output's blob is no longer in its store.</exception>
    public async Task<Stream?> OpenOutputAsync(string runName, string? actionId = null, CancellationToken cancellationToken = default)
    {
        var (json, blob) = actionId is null
            ? _store.GetRun(runName) is { } run ? (run.OutputsJson, run.OutputsBlob) : (null, null)
            : _store.GetActionOutput(runName, actionId) ?? (null, null);
        if (json is not null)
        {
            return new MemoryStream(Encoding.UTF8.GetBytes(json), writable: false);
        }

        return blob is null ? null : await OutputBlobs.OpenAsync(blob, _config, cancellationToken).ConfigureAwait(false);
    }
}
