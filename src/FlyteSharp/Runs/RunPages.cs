using System.Globalization;
using System.Net;
using System.Text;
using FlyteSharp.Tasks;

namespace FlyteSharp.Runs;

/// <summary>
/// The console's HTML: the run list (filters, paging) and a page per run (summary, Gantt timeline, action tree with each
/// action's inputs, outputs, logs, error, image, bundle and host in place). Every value is HTML-escaped; pages carry no
/// inline script or style (the CSP forbids both): /static/console.css styles them and /static/console.js updates
/// running runs in place. Everything that changes while a run runs is inside <c>&lt;main id="live"&gt;</c>.
/// </summary>
internal static class RunPages
{
    /// <summary>Pages show at most this many actions (a 10,000-action fan-out stays readable); the rest are counted.</summary>
    public const int MaxActionsShown = 2000;

    /// <summary>The timeline draws at most this many rows.</summary>
    public const int MaxTimelineRows = 300;

    /// <summary>Log lines shown in place per action (the full log is linked).</summary>
    public const int MaxLogLinesShown = 200;

    /// <summary>A run page shows the first this many log chunk rows (at most 512 KiB of text); the rest is one link away.</summary>
    public const int LogRowsShown = 16;

    public static string RunList(RunPage page, RunQuery query, string? error = null)
    {
        var html = Start("FlyteSharp runs");
        html.Append("<h1>Runs</h1>");
        html.Append("<form class=\"filters\" method=\"get\" action=\"/runs\">")
            .Append("<label>status<select name=\"status\"><option value=\"\">any</option>");
        foreach (var status in Enum.GetValues<RunStatus>())
        {
            var text = ApiName(status);
            html.Append("<option value=\"").Append(E(text)).Append('"').Append(query.Status == status ? " selected" : "").Append('>').Append(E(text)).Append("</option>");
        }

        html.Append("</select></label>")
            .Append("<label>task<input name=\"task\" value=\"").Append(E(query.Task ?? "")).Append("\" placeholder=\"name contains\"></label>")
            .Append("<label>since (UTC)<input type=\"datetime-local\" name=\"since\" value=\"").Append(E(LocalInput(query.Since))).Append("\"></label>")
            .Append("<label>until (UTC)<input type=\"datetime-local\" name=\"until\" value=\"").Append(E(LocalInput(query.Until))).Append("\"></label>")
            .Append("<button type=\"submit\">filter</button> <a href=\"/runs\">clear</a></form>");
        if (error is not null)
        {
            html.Append("<p class=\"failed\" id=\"filter-error\">").Append(E(error)).Append("</p>");
        }

        var running = page.Runs.Any(r => r.Status == RunStatus.Running);
        html.Append("<main id=\"live\"").Append(running ? " data-running=\"true\"" : "").Append('>');
        if (page.Runs.Count == 0)
        {
            html.Append(query == new RunQuery(Limit: query.Limit)
                ? "<p>No runs recorded yet. Start one with <code>flytesharp run</code> or <code>Flyte.Run</code>.</p>"
                : "<p id=\"no-match\">No runs match these filters.</p>");
        }
        else
        {
            html.Append("<table id=\"runs\"><thead><tr><th>run</th><th>task</th><th>status</th><th>started (UTC)</th><th>duration</th><th>mode</th></tr></thead><tbody>");
            foreach (var run in page.Runs)
            {
                html.Append("<tr class=\"run\" data-run=\"").Append(E(run.Name)).Append("\"><td><a href=\"/runs/").Append(E(Uri.EscapeDataString(run.Name))).Append("\">").Append(E(run.Name)).Append("</a></td>")
                    .Append("<td>").Append(E(run.Task)).Append("</td>")
                    .Append("<td>").Append(Badge(ApiName(run.Status))).Append("</td>")
                    .Append("<td>").Append(E(Time(run.CreatedAt))).Append("</td>")
                    .Append("<td>").Append(E(Duration(run.Duration))).Append("</td>")
                    .Append("<td>").Append(E(EnumNames.Name(run.Mode))).Append("</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        html.Append("</main>");
        if (page.Next is not null)
        {
            html.Append("<p class=\"pager\"><a id=\"older\" href=\"").Append(E(ListUrl(query with { Before = page.Next }))).Append("\">older runs →</a></p>");
        }

        return End(html);
    }

    /// <param name="run">The run.</param>
    /// <param name="actions">Its actions in tree order.</param>
    /// <param name="logs">Its log lines.</param>
    /// <param name="moreLogs">True when the log goes on after <paramref name="logs"/>: the page links to the whole log.</param>
    /// <param name="now">The time running things are drawn up to (the store's clock); default: the run's end, or its start.</param>
    public static string RunPage(RunRecord run, IReadOnlyList<ActionRecord> actions, IReadOnlyList<LogLine> logs, bool moreLogs = false, DateTimeOffset? now = null)
    {
        var runPath = "/runs/" + Uri.EscapeDataString(run.Name);
        var apiPath = "/api/runs/" + Uri.EscapeDataString(run.Name);
        var until = run.EndedAt ?? now ?? run.CreatedAt;
        var running = run.Status == RunStatus.Running;
        var html = Start($"{(running ? "▶ " : "")}{run.Name} · FlyteSharp");
        html.Append("<p><a href=\"/runs\">← all runs</a></p>");
        html.Append("<main id=\"live\"").Append(running ? " data-running=\"true\"" : "").Append('>');
        html.Append("<h1 id=\"run-name\">").Append(E(run.Name)).Append("</h1>");
        html.Append("<dl class=\"facts\" id=\"summary\">")
            .Append("<dt>status</dt><dd id=\"run-status\" class=\"").Append(E(ApiName(run.Status))).Append("\">").Append(E(ApiName(run.Status)))
            .Append(running ? " <span class=\"live\">(updating live)</span>" : "").Append("</dd>")
            .Append("<dt>task</dt><dd>").Append(E(run.Task)).Append(" (environment ").Append(E(run.Environment)).Append(")</dd>")
            .Append("<dt>started</dt><dd>").Append(E(Time(run.CreatedAt))).Append("</dd>")
            .Append("<dt>duration</dt><dd id=\"run-duration\">").Append(E(Duration(until - run.CreatedAt))).Append(running ? " so far" : "").Append("</dd>")
            .Append("<dt>mode</dt><dd>").Append(E(EnumNames.Name(run.Mode))).Append("</dd>");
        if (run.BundleDigest is not null)
        {
            html.Append("<dt>code bundle</dt><dd><code>").Append(E(run.BundleDigest)).Append("</code></dd>");
        }

        html.Append("<dt>inputs</dt><dd>").Append(PreviewHtml(run.InputsJson, run.InputsBlob, null, null, "run-inputs")).Append("</dd>")
            .Append("<dt>outputs</dt><dd>").Append(PreviewHtml(run.OutputsJson, run.OutputsBlob, run.OutputsLength, apiPath + "/output", "run-outputs")).Append("</dd>");
        if (run.Error is not null)
        {
            html.Append("<dt>error</dt><dd id=\"run-error\" class=\"error\">").Append(ErrorHtml(run.Error)).Append("</dd>");
        }

        html.Append("</dl>");

        html.Append("<h2>Timeline</h2>").Append(Timeline(run, actions, until));

        html.Append("<h2>Actions (").Append(actions.Count.ToString(CultureInfo.InvariantCulture)).Append(")</h2>");
        if (moreLogs)
        {
            html.Append("<p id=\"logs-truncated\" class=\"muted\">Logs below are the first part of the run's log; the whole log: <a href=\"").Append(E(runPath + "/logs")).Append("\">")
                .Append(E(runPath + "/logs")).Append("</a></p>");
        }

        html.Append(Tree(run, actions, logs, until));
        if (actions.Count > MaxActionsShown)
        {
            html.Append("<p>… and ").Append((actions.Count - MaxActionsShown).ToString(CultureInfo.InvariantCulture))
                .Append(" more actions (see <code>flytesharp runs show</code>).</p>");
        }

        var orphanLogs = logs.Where(l => actions.All(a => a.Id != l.ActionId)).ToList();
        if (orphanLogs.Count > 0)
        {
            html.Append("<h2>Other output</h2><pre class=\"log\">");
            AppendLines(html, orphanLogs);
            html.Append("</pre>");
        }

        html.Append("</main>");
        return End(html);
    }

    public static string NotFound(string what) =>
        End(Start("not found · FlyteSharp").Append("<h1>Not found</h1><p>").Append(E(what)).Append("</p><p><a href=\"/runs\">all runs</a></p>"));

    public static string BadRequest(string what) =>
        End(Start("bad request · FlyteSharp").Append("<h1>Bad request</h1><p>").Append(E(what)).Append("</p><p><a href=\"/runs\">all runs</a></p>"));

    /// <inheritdoc cref="RunText.ApiName{T}"/>
    internal static string ApiName<T>(T status) where T : struct, Enum => RunText.ApiName(status);

    /// <inheritdoc cref="RunText.Duration"/>
    internal static string Duration(TimeSpan? duration) => RunText.Duration(duration);

    /// <inheritdoc cref="RunText.Time"/>
    internal static string Time(DateTimeOffset at) => RunText.Time(at);

    /// <summary>The list URL of a query (filters and cursor as query parameters).</summary>
    internal static string ListUrl(RunQuery query)
    {
        var parts = new List<string>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add(key + "=" + Uri.EscapeDataString(value));
            }
        }

        Add("status", query.Status is { } s ? ApiName(s) : null);
        Add("task", query.Task);
        Add("since", query.Since is { } since ? LocalInput(since) : null);
        Add("until", query.Until is { } until ? LocalInput(until) : null);
        Add("before", query.Before);
        return parts.Count == 0 ? "/runs" : "/runs?" + string.Join("&", parts);
    }

    /// <summary>
    /// The Gantt chart (SVG; positions are presentation attributes, which the CSP allows): per action a grey bar while it
    /// waited for a slot (start → first attempt), a bar in its status colour while it ran, and a mark at each retry.
    /// </summary>
    private static string Timeline(RunRecord run, IReadOnlyList<ActionRecord> actions, DateTimeOffset now)
    {
        const int labelWidth = 260, barsWidth = 760, rowHeight = 18, top = 22;
        var rows = actions.Take(MaxTimelineRows).ToList();
        var start = run.CreatedAt;
        var end = run.EndedAt ?? now;
        foreach (var a in rows)
        {
            var last = a.EndedAt ?? now;
            if (last > end)
            {
                end = last;
            }
        }

        var span = Math.Max((end - start).TotalMilliseconds, 1);
        double X(DateTimeOffset t) => labelWidth + (Math.Clamp((t - start).TotalMilliseconds, 0, span) / span * barsWidth);
        static string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

        var height = top + (rows.Count * rowHeight) + 6;
        var svg = new StringBuilder();
        svg.Append("<div class=\"timeline\" id=\"timeline\"><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"timeline of the run's actions\" width=\"")
            .Append(labelWidth + barsWidth + 10).Append("\" height=\"").Append(height).Append("\">");
        for (var i = 0; i <= 4; i++)
        {
            var x = labelWidth + (barsWidth * i / 4.0);
            svg.Append("<line class=\"axis\" x1=\"").Append(N(x)).Append("\" y1=\"14\" x2=\"").Append(N(x)).Append("\" y2=\"").Append(height).Append("\"/>")
                .Append("<text class=\"axis-label\" x=\"").Append(N(Math.Min(x, labelWidth + barsWidth - 40))).Append("\" y=\"11\">+")
                .Append(E(Duration(TimeSpan.FromMilliseconds(span * i / 4)))).Append("</text>");
        }

        for (var i = 0; i < rows.Count; i++)
        {
            var a = rows[i];
            var y = top + (i * rowHeight);
            var status = ApiName(a.Status);
            var ran = a.AttemptStartedAt.Count > 0 ? a.AttemptStartedAt[0] : a.StartedAt;
            var finished = a.EndedAt ?? now;
            var label = new string(' ', Math.Min(a.Depth, 10) * 2) + a.Task;
            if (label.Length > 38)
            {
                label = label[..37] + "…";
            }

            svg.Append("<g class=\"row\" data-action-id=\"").Append(E(a.Id)).Append("\">")
                .Append("<title>").Append(E($"{a.Task} [{a.Id}] {status}, queued {Duration(ran - a.StartedAt)}, ran {Duration(finished - ran)}, {a.Attempts} attempt(s)")).Append("</title>")
                .Append("<text x=\"4\" y=\"").Append(y + 12).Append("\" xml:space=\"preserve\">").Append(E(label)).Append("</text>");
            if (ran > a.StartedAt)
            {
                svg.Append("<rect class=\"queue\" x=\"").Append(N(X(a.StartedAt))).Append("\" y=\"").Append(y + 3).Append("\" width=\"")
                    .Append(N(Math.Max(X(ran) - X(a.StartedAt), 1))).Append("\" height=\"").Append(rowHeight - 6).Append("\"/>");
            }

            svg.Append("<rect class=\"bar ").Append(E(status)).Append("\" x=\"").Append(N(X(ran))).Append("\" y=\"").Append(y + 2).Append("\" width=\"")
                .Append(N(Math.Max(X(finished) - X(ran), 2))).Append("\" height=\"").Append(rowHeight - 4).Append("\"/>");
            foreach (var retry in a.AttemptStartedAt.Skip(1))
            {
                svg.Append("<line class=\"attempt\" x1=\"").Append(N(X(retry))).Append("\" y1=\"").Append(y + 1).Append("\" x2=\"").Append(N(X(retry)))
                    .Append("\" y2=\"").Append(y + rowHeight - 1).Append("\"/>");
            }

            svg.Append("</g>");
        }

        svg.Append("</svg>");
        if (actions.Count > rows.Count)
        {
            svg.Append("<p class=\"muted\">The first ").Append(rows.Count).Append(" of ").Append(actions.Count).Append(" actions are drawn.</p>");
        }

        svg.Append("<div class=\"legend\"><span class=\"l-queue\">waiting for a slot</span><span class=\"l-run\">running / done (colour: status)</span><span class=\"l-attempt\">retry</span></div></div>");
        return svg.ToString();
    }

    private static string Tree(RunRecord run, IReadOnlyList<ActionRecord> actions, IReadOnlyList<LogLine> logs, DateTimeOffset now)
    {
        var shown = actions.Take(MaxActionsShown).ToList();
        var ids = shown.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        var children = shown.Where(a => a.ParentId is not null && ids.Contains(a.ParentId)).ToLookup(a => a.ParentId!, StringComparer.Ordinal);
        var logsByAction = logs.ToLookup(l => l.ActionId, StringComparer.Ordinal);
        var html = new StringBuilder("<ul class=\"tree\" id=\"actions\">");
        foreach (var root in shown.Where(a => a.ParentId is null || !ids.Contains(a.ParentId)))
        {
            AppendAction(html, run, root, children, logsByAction, now);
        }

        return html.Append("</ul>").ToString();
    }

    private static void AppendAction(StringBuilder html, RunRecord run, ActionRecord a, ILookup<string, ActionRecord> children, ILookup<string, LogLine> logs, DateTimeOffset now)
    {
        var status = ApiName(a.Status);
        var lines = logs[a.Id].ToList();
        html.Append("<li><details class=\"action\" data-action-id=\"").Append(E(a.Id)).Append("\" data-status=\"").Append(E(status)).Append('"')
            .Append(a.Status is ActionStatus.Failed or ActionStatus.TimedOut ? " open" : "").Append('>')
            .Append("<summary>").Append(Badge(status)).Append(" <span class=\"task\">").Append(E(a.Task)).Append("</span>")
            .Append(" <code class=\"muted\">").Append(E(a.Id)).Append("</code>")
            .Append(" <span class=\"muted\">").Append(E(TaskKinds.Name(a.Kind))).Append(" · ").Append(E(a.Environment)).Append(" · ").Append(E(Duration((a.EndedAt ?? (now > a.StartedAt ? now : a.StartedAt)) - a.StartedAt))).Append(a.EndedAt is null ? " so far" : "")
            .Append(a.Attempts > 1 ? $" · {a.Attempts.ToString(CultureInfo.InvariantCulture)} attempts" : "")
            .Append(a.CacheHit ? " · from cache" : "")
            .Append(lines.Count > 0 ? $" · {lines.Count.ToString(CultureInfo.InvariantCulture)} log lines" : "")
            .Append("</span></summary><div class=\"body\"><dl class=\"facts\">")
            .Append("<dt>ran on</dt><dd class=\"host\">").Append(E(a.Host ?? (a.CacheHit ? "nowhere (cached)" : "not yet placed"))).Append("</dd>")
            .Append("<dt>image</dt><dd class=\"image\"><code>").Append(E(a.Image ?? "none (this machine)")).Append("</code></dd>");
        if (run.BundleDigest is not null && a.Kind == TaskKind.Python)
        {
            html.Append("<dt>code bundle</dt><dd class=\"bundle\"><code>").Append(E(run.BundleDigest)).Append("</code></dd>");
        }

        html.Append("<dt>started</dt><dd>").Append(E(Time(a.StartedAt))).Append("</dd>");
        if (a.EnvVars.Count > 0)
        {
            html.Append("<dt>env vars</dt><dd><code>").Append(E(string.Join(" ", a.EnvVars.Select(kv => $"{kv.Key}={kv.Value}")))).Append("</code></dd>");
        }

        html.Append("<dt>inputs</dt><dd>").Append(PreviewHtml(a.InputsJson, a.InputsBlob, null, null, null)).Append("</dd>")
            .Append("<dt>outputs</dt><dd>").Append(PreviewHtml(a.OutputsJson, a.OutputsBlob, a.OutputsLength,
                $"/api/runs/{Uri.EscapeDataString(run.Name)}/actions/{Uri.EscapeDataString(a.Id)}/output", null)).Append("</dd>");
        if (a.Error is not null)
        {
            html.Append("<dt>error</dt><dd class=\"error\">").Append(ErrorHtml(a.Error)).Append("</dd>");
        }

        html.Append("</dl>");
        if (lines.Count > 0)
        {
            var logUrl = $"/runs/{Uri.EscapeDataString(run.Name)}/logs/{Uri.EscapeDataString(a.Id)}";
            html.Append("<pre class=\"log\">");
            AppendLines(html, lines.Count > MaxLogLinesShown ? lines.Skip(lines.Count - MaxLogLinesShown).ToList() : lines);
            html.Append("</pre>");
            if (lines.Count > MaxLogLinesShown)
            {
                html.Append("<p class=\"muted\">the last ").Append(MaxLogLinesShown).Append(" of ").Append(lines.Count).Append(" lines; ");
            }
            else
            {
                html.Append("<p class=\"muted\">");
            }

            html.Append("<a href=\"").Append(E(logUrl)).Append("\">full log</a></p>");
        }

        html.Append("</div></details>");
        var kids = children[a.Id].ToList();
        if (kids.Count > 0)
        {
            html.Append("<ul>");
            foreach (var child in kids)
            {
                AppendAction(html, run, child, children, logs, now);
            }

            html.Append("</ul>");
        }

        html.Append("</li>");
    }

    private static void AppendLines(StringBuilder html, IEnumerable<LogLine> lines)
    {
        foreach (var line in lines)
        {
            html.Append(line.Stream == "stdout" ? "" : "[" + E(line.Stream) + "] ").Append(E(line.Text)).Append('\n');
        }
    }

    /// <inheritdoc cref="RunText.Preview"/>
    internal static string Preview(string? json, OutputBlob? blob, long? length, out long? truncatedSize) =>
        RunText.Preview(json, blob, length, out truncatedSize);

    /// <inheritdoc cref="RunText.Size"/>
    internal static string Size(long bytes) => RunText.Size(bytes);

    /// <summary>A value's preview in place, with a link to the whole value (streamed by the server) when it is longer.</summary>
    private static string PreviewHtml(string? json, OutputBlob? blob, long? length, string? fullUrl, string? id)
    {
        var idAttribute = id is null ? "" : $" id=\"{id}\"";
        var text = Preview(json, blob, length, out var truncated);
        var html = $"<code{idAttribute}{(json is null && blob is null ? " class=\"muted\"" : "")}>{E(text)}</code>";
        if (truncated is { } size)
        {
            html += fullUrl is null
                ? $" <span class=\"muted\">({E(Size(size))})</span>"
                : $" <a class=\"output-link\"{(id is null ? "" : $" id=\"{id}-link\"")} href=\"{E(fullUrl)}\">full output ({E(Size(size))})</a>";
        }

        return html;
    }

    private static string Badge(string status) => $"<span class=\"badge {E(status)}\">{E(status)}</span>";

    private static string ErrorHtml(TaskError error)
    {
        var html = new StringBuilder("<strong>").Append(E(error.Type)).Append("</strong>: ").Append(E(error.Message));
        if (!string.IsNullOrEmpty(error.Traceback))
        {
            html.Append("<pre class=\"traceback\">").Append(E(error.Traceback)).Append("</pre>");
        }

        return html.ToString();
    }

    private static string LocalInput(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture) : "";

    private static StringBuilder Start(string title) =>
        new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
            .Append("<title>").Append(E(title)).Append("</title><link rel=\"stylesheet\" href=\"/static/console.css\">")
            .Append("<script src=\"/static/console.js\" defer></script></head><body>")
            .Append("<header class=\"top\"><a href=\"/runs\">FlyteSharp</a><span class=\"muted\">runs console</span></header><div class=\"page\">");

    private static string End(StringBuilder html) => html.Append("</div></body></html>").ToString();

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
