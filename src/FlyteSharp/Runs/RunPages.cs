using System.Globalization;
using System.Net;
using System.Text;

namespace FlyteSharp.Runs;

/// <summary>The console's HTML: a list of runs and a page per run (action tree, timings, inputs, outputs, errors, logs). Every value is HTML-escaped.</summary>
internal static class RunPages
{
    /// <summary>Pages show at most this many actions (a 10,000-action fan-out stays readable); the rest are counted.</summary>
    public const int MaxActionsShown = 2000;

    /// <summary>A run page shows the first this many log chunk rows (at most 512 KiB of text); the rest is one link away.</summary>
    public const int LogRowsShown = 16;

    private const string Style = """
        body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}table{border-collapse:collapse;width:100%}
        th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
        code,pre{font-family:ui-monospace,monospace;font-size:.85rem}pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;white-space:pre-wrap}
        .succeeded{color:#1a7f37}.failed,.timed_out,.abandoned{color:#cf222e}.running{color:#9a6700}.cached{color:#0969da}.cancelled{color:#6e7781}
        .tree{white-space:nowrap}dt{font-weight:600}dd{margin:0 0 .5rem 0}
        """;

    public static string RunList(IReadOnlyList<RunRecord> runs)
    {
        var html = Start("FlyteSharp runs", refresh: runs.Any(r => r.Status == RunStatus.Running));
        html.Append("<h1>Runs</h1>");
        if (runs.Count == 0)
        {
            html.Append("<p>No runs recorded yet. Start one with <code>flytesharp run</code> or <code>Flyte.Run</code>.</p>");
        }
        else
        {
            html.Append("<table><thead><tr><th>run</th><th>task</th><th>status</th><th>started</th><th>duration</th></tr></thead><tbody>");
            foreach (var run in runs)
            {
                html.Append("<tr><td><a href=\"/runs/").Append(E(Uri.EscapeDataString(run.Name))).Append("\">").Append(E(run.Name)).Append("</a></td>")
                    .Append("<td>").Append(E(run.Task)).Append("</td>")
                    .Append("<td class=\"").Append(E(Status(run.Status))).Append("\">").Append(E(Status(run.Status))).Append("</td>")
                    .Append("<td>").Append(E(Time(run.CreatedAt))).Append("</td>")
                    .Append("<td>").Append(E(Duration(run.Duration))).Append("</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        return End(html);
    }

    /// <param name="run">The run (a preview read is enough).</param>
    /// <param name="actions">Its actions (preview reads).</param>
    /// <param name="logs">The first part of its log.</param>
    /// <param name="moreLogs">True when the log goes on after <paramref name="logs"/>: the page links to the whole log.</param>
    public static string RunPage(RunRecord run, IReadOnlyList<ActionRecord> actions, IReadOnlyList<LogLine> logs, bool moreLogs = false)
    {
        var runPath = "/runs/" + Uri.EscapeDataString(run.Name);
        var apiPath = "/api/runs/" + Uri.EscapeDataString(run.Name);
        var html = Start($"{run.Name} · FlyteSharp", refresh: run.Status == RunStatus.Running);
        html.Append("<p><a href=\"/runs\">all runs</a></p>");
        html.Append("<h1 id=\"run-name\">").Append(E(run.Name)).Append("</h1>");
        html.Append("<dl>")
            .Append("<dt>status</dt><dd id=\"run-status\" class=\"").Append(E(Status(run.Status))).Append("\">").Append(E(Status(run.Status))).Append("</dd>")
            .Append("<dt>task</dt><dd>").Append(E(run.Task)).Append(" (environment ").Append(E(run.Environment)).Append(")</dd>")
            .Append("<dt>started</dt><dd>").Append(E(Time(run.CreatedAt))).Append("</dd>")
            .Append("<dt>duration</dt><dd>").Append(E(Duration(run.Duration))).Append("</dd>")
            .Append("<dt>mode</dt><dd>").Append(E(run.Mode)).Append("</dd>");
        if (run.BundleDigest is not null)
        {
            html.Append("<dt>code bundle</dt><dd><code>").Append(E(run.BundleDigest)).Append("</code></dd>");
        }

        html.Append("<dt>inputs</dt><dd><code>").Append(E(Preview(run.InputsJson, run.InputsBlob, null, out _))).Append("</code></dd>")
            .Append("<dt>outputs</dt><dd><code id=\"run-outputs\">").Append(E(Preview(run.OutputsJson, run.OutputsBlob, run.OutputsLength, out var truncated))).Append("</code>");
        if (truncated is { } size)
        {
            html.Append(" <a id=\"run-output-link\" href=\"").Append(E(apiPath + "/output")).Append("\">full output (").Append(E(Size(size))).Append(")</a>");
        }

        html.Append("</dd>");
        if (run.Error is not null)
        {
            html.Append("<dt>error</dt><dd>").Append(ErrorHtml(run.Error)).Append("</dd>");
        }

        html.Append("</dl><h2>Actions (").Append(actions.Count).Append(")</h2>");
        html.Append("<table id=\"actions\"><thead><tr><th>action</th><th>id</th><th>kind</th><th>status</th><th>attempts</th><th>duration</th><th>inputs</th><th>outputs</th><th>error</th></tr></thead><tbody>");
        foreach (var a in actions.Take(MaxActionsShown))
        {
            html.Append("<tr class=\"action\" data-action-id=\"").Append(E(a.Id)).Append("\">")
                .Append("<td class=\"tree\" style=\"padding-left:").Append(0.5 + (1.25 * a.Depth)).Append("rem\">").Append(a.Depth == 0 ? "" : "└ ").Append(E(a.Task)).Append("</td>")
                .Append("<td><code>").Append(E(a.Id)).Append("</code></td>")
                .Append("<td>").Append(E(a.Kind)).Append("</td>")
                .Append("<td class=\"").Append(E(Status(a.Status))).Append("\">").Append(E(Status(a.Status))).Append("</td>")
                .Append("<td>").Append(a.Attempts).Append("</td>")
                .Append("<td>").Append(E(Duration(a.Duration))).Append("</td>")
                .Append("<td><code>").Append(E(Abbreviate(a.InputsJson ?? a.InputsBlob?.Preview))).Append("</code></td>")
                .Append("<td><code>").Append(E(Abbreviate(a.OutputsJson ?? a.OutputsBlob?.Preview))).Append("</code>");
            if (a.OutputsBlob is not null || a.OutputsLength > 300)
            {
                html.Append(" <a class=\"output-link\" href=\"").Append(E($"{apiPath}/actions/{Uri.EscapeDataString(a.Id)}/output")).Append("\">full output (")
                    .Append(E(Size(a.OutputsBlob?.Size ?? a.OutputsLength!.Value))).Append(")</a>");
            }

            html.Append("</td>")
                .Append("<td>").Append(a.Error is null ? "" : ErrorHtml(a.Error)).Append("</td></tr>");
        }

        html.Append("</tbody></table>");
        if (actions.Count > MaxActionsShown)
        {
            html.Append("<p>… and ").Append(actions.Count - MaxActionsShown).Append(" more actions (see <code>flytesharp runs show</code>).</p>");
        }

        html.Append("<h2>Logs</h2>");
        if (logs.Count == 0)
        {
            html.Append("<p>No output was captured.</p>");
        }
        else if (moreLogs)
        {
            html.Append("<p id=\"logs-truncated\">The first part of the log; the whole log: <a href=\"").Append(E(runPath + "/logs")).Append("\">").Append(E(runPath + "/logs")).Append("</a></p>");
        }

        var names = actions.ToDictionary(a => a.Id, a => a.Task, StringComparer.Ordinal);
        foreach (var group in logs.GroupBy(l => l.ActionId).Take(MaxActionsShown))
        {
            html.Append("<h3>").Append(E(names.GetValueOrDefault(group.Key, group.Key))).Append(" <code>").Append(E(group.Key)).Append("</code></h3><pre class=\"log\">");
            foreach (var line in group)
            {
                html.Append(line.Stream == "stdout" ? "" : "[" + E(line.Stream) + "] ").Append(E(line.Text)).Append('\n');
            }

            html.Append("</pre>");
        }

        return End(html);
    }

    public static string NotFound(string what) => End(Start("not found · FlyteSharp", false).Append("<h1>Not found</h1><p>").Append(E(what)).Append("</p><p><a href=\"/runs\">all runs</a></p>"));

    internal static string Status(RunStatus status) => RunStore.Text(status);

    internal static string Status(ActionStatus status) => RunStore.Text(status);

    internal static string Duration(TimeSpan? duration) => duration switch
    {
        null => "",
        { TotalSeconds: < 1 } d => $"{d.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms",
        { TotalMinutes: < 1 } d => $"{d.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s",
        var d => d.Value.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture),
    };

    internal static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string ErrorHtml(TaskError error)
    {
        var html = new StringBuilder("<strong>").Append(E(error.Type)).Append("</strong>: ").Append(E(error.Message));
        if (!string.IsNullOrEmpty(error.Traceback))
        {
            html.Append("<pre>").Append(E(error.Traceback)).Append("</pre>");
        }

        return html.ToString();
    }

    private static string Abbreviate(string? json) => json is null ? "" : json.Length <= 300 ? json : json[..297] + "...";

    /// <summary>The text a page shows for a value; <paramref name="truncatedSize"/> is the whole size when the text is only its start.</summary>
    internal static string Preview(string? json, OutputBlob? blob, long? length, out long? truncatedSize)
    {
        if (blob is not null)
        {
            truncatedSize = blob.Size;
            return blob.Preview + "…";
        }

        truncatedSize = null;
        if (json is null)
        {
            return "";
        }

        var preview = OutputColumn.Preview(json);
        if (preview.Length < (length ?? json.Length))
        {
            truncatedSize = length ?? json.Length;
            return preview + "…";
        }

        return preview;
    }

    internal static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{(bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture)} KiB",
        _ => $"{(bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture)} MiB",
    };

    private static StringBuilder Start(string title, bool refresh)
    {
        var html = new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        if (refresh)
        {
            html.Append("<meta http-equiv=\"refresh\" content=\"2\">");
        }

        return html.Append("<title>").Append(E(title)).Append("</title><style>").Append(Style).Append("</style></head><body>");
    }

    private static string End(StringBuilder html) => html.Append("</body></html>").ToString();

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
