using System.Net;
using System.Text;
using System.Globalization;
using System.Text.Json;
using FlyteSharp.Configuration;

namespace FlyteSharp.Runs;

/// <summary>
/// The small web console behind run URLs: <c>/runs</c> lists runs (filters, paging), <c>/runs/{name}</c> shows one (updated
/// live by /static/console.js while it runs), <c>/runs/{name}/logs[/{action}]</c> is plain text (streamed page by page) and
/// <c>/api/runs…</c> JSON in the CLI's convention (docs/api.md) with output previews; <c>/api/runs/{name}/output</c> and
/// <c>/api/runs/{name}/actions/{id}/output</c> stream a whole output (inline or its blob) — all read from the run store, all GET,
/// in bounded memory however large outputs and logs are.
/// Built on <see cref="HttpListener"/>: a read-only page on loopback needs no web framework, keeps the CLI a plain
/// console app (no ASP.NET shared framework to install or load) and starts in milliseconds.
/// Start one with <see cref="FlyteRuntime.StartConsole"/>; dispose it to stop serving.
/// </summary>
public sealed class RunConsoleServer : IAsyncDisposable
{
    /// <summary>
    /// The pages' policy: scripts, styles and fetches only from this server (the console's own /static files), no inline
    /// script or style, no frames, forms only to itself.
    /// </summary>
    internal const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private readonly HttpListener _listener = new();
    private readonly RunStore _store;
    private readonly FlyteConfig _config;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <param name="store">The run store to read.</param>
    /// <param name="port">The loopback port.</param>
    /// <param name="config">Settings for reading output blobs from <c>oci://</c> stores (insecure registries); defaults otherwise.</param>
    /// <exception cref="FlyteSharpException">The port is not between 1 and 65535.</exception>
    internal RunConsoleServer(RunStore store, int port, FlyteConfig? config = null)
    {
        if (port is < IPEndPoint.MinPort + 1 or > IPEndPoint.MaxPort)
        {
            throw new FlyteSharpException($"port {port} is not a TCP port", fix: "pass --port with a number from 1 to 65535 (and set [runs] console_url to match)");
        }

        _store = store;
        _config = config ?? new FlyteConfig();
        Port = port;
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>Where it answers: <c>http://localhost:{port}</c> (run pages under <c>/runs</c>).</summary>
    public string BaseUrl => $"http://localhost:{Port}";

    /// <summary>
    /// Listens on IPv4 loopback only, under both names a browser uses for it: <c>localhost</c> and <c>127.0.0.1</c>
    /// (HttpListener answers a request only when its Host header matches a prefix). <c>[::1]</c> is not served: .NET's
    /// managed HttpListener rejects IPv6 prefixes ("Invalid port in prefix").
    /// </summary>
    internal void Start()
    {
        _listener.Prefixes.Add($"http://localhost:{Port}/");
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException ex)
        {
            throw new FlyteSharpException($"cannot listen on port {Port}: {ex.Message}",
                fix: "stop whatever uses the port, or pass --port (and set [runs] console_url to match)", inner: ex);
        }

        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Stops serving and frees the port.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);

        // Close only: the managed HttpListener's Stop() unbinds the prefixes and a later Close() unbinds them again,
        // which re-binds the port first and fails with "address already in use" when anything took it in between.
        // Close also ends the pending GetContextAsync, so the loop returns.
        _listener.Close();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            if (context.Request.HttpMethod is "GET" or "HEAD" && await StreamAsync(context.Request.Url?.AbsolutePath ?? "/", _stop.Token).ConfigureAwait(false) is { } streamed)
            {
                response.StatusCode = 200;
                response.ContentType = streamed.ContentType;
                response.SendChunked = true;
                response.Headers["X-Content-Type-Options"] = "nosniff";
                response.Headers["Content-Security-Policy"] = "default-src 'none'";
                if (streamed.FileName is not null)
                {
                    response.Headers["Content-Disposition"] = $"attachment; filename=\"{streamed.FileName}\"";
                }

                if (context.Request.HttpMethod == "GET")
                {
                    await streamed.Write(response.OutputStream, _stop.Token).ConfigureAwait(false);
                }

                return;
            }

            var (status, type, body) = Route(context.Request);
            var bytes = Encoding.UTF8.GetBytes(body);
            response.StatusCode = status;
            response.ContentType = type;
            response.ContentLength64 = bytes.Length;
            response.Headers["X-Content-Type-Options"] = "nosniff";
            response.Headers["Content-Security-Policy"] = ContentSecurityPolicy;
            response.Headers["Referrer-Policy"] = "no-referrer";
            response.Headers["Cache-Control"] = "no-store";
            await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The browser went away.
        }
        catch (Exception ex)
        {
            try
            {
                var bytes = Encoding.UTF8.GetBytes(WebUtility.HtmlEncode(ex.Message));
                response.StatusCode = 500;
                response.ContentType = "text/plain; charset=utf-8";
                await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            }
            catch (Exception inner) when (inner is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
        finally
        {
            response.Close();
        }
    }

    /// <summary>The streamed answers (whole logs, whole outputs), or null when the path is not one of them or names nothing.</summary>
    internal async Task<StreamedBody?> StreamAsync(string path, CancellationToken cancellationToken)
    {
        var parts = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        switch (parts)
        {
            case ["runs", var name, "logs", .. var rest] when rest.Length <= 1:
                var action = rest.Length == 1 ? rest[0] : null;
                if (_store.GetRun(name, previewOnly: true) is null || (action is not null && !_store.HasAction(name, action)))
                {
                    return null;
                }

                return new StreamedBody("text/plain; charset=utf-8", null, async (output, ct) =>
                {
                    var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                    await using var writerDisposal = writer.ConfigureAwait(false);
                    foreach (var line in _store.StreamLogs(name, action))
                    {
                        ct.ThrowIfCancellationRequested();
                        await writer.WriteAsync($"{line.ActionId} {line.Stream}: ").ConfigureAwait(false);
                        await writer.WriteAsync(line.Text).ConfigureAwait(false);
                        await writer.WriteAsync('\n').ConfigureAwait(false);
                    }
                });
            case ["api", "runs", var name, "output"]:
                return _store.GetRun(name) is { } run && (run.OutputsJson is not null || run.OutputsBlob is not null)
                    ? await OutputAsync(name, null, run.OutputsJson, run.OutputsBlob, cancellationToken).ConfigureAwait(false)
                    : null;
            case ["api", "runs", var name, "actions", var id, "output"]:
                return _store.GetActionOutput(name, id) is { } o && (o.Json is not null || o.Blob is not null)
                    ? await OutputAsync(name, id, o.Json, o.Blob, cancellationToken).ConfigureAwait(false)
                    : null;
            default:
                return null;
        }
    }

    private async Task<StreamedBody> OutputAsync(string run, string? action, string? json, OutputBlob? blob, CancellationToken cancellationToken)
    {
        var fileName = $"{run}{(action is null ? "" : "-" + action)}-output.json";
        if (json is not null)
        {
            return new StreamedBody("application/json", fileName, (output, ct) => output.WriteAsync(Encoding.UTF8.GetBytes(json), ct).AsTask());
        }

        // Opened before the status line is sent, so a blob missing from the store is an error page, not a cut-off 200.
        var source = await OutputBlobs.OpenAsync(blob!, _config, cancellationToken).ConfigureAwait(false);
        return new StreamedBody("application/json", fileName, async (output, ct) =>
        {
            await using (source)
            {
                await source.CopyToAsync(output, 1 << 16, ct).ConfigureAwait(false);
            }
        });
    }

    private (int Status, string ContentType, string Body) NoOutput(string name) =>
        (404, "application/json; charset=utf-8", JsonConvention.Serialize(
            new { error = _store.GetRun(name, previewOnly: true) is null ? $"no run named '{name}'" : $"run '{name}' has no such action, or it has no output (yet)" }));

    internal (int Status, string ContentType, string Body) Route(HttpListenerRequest request) =>
        request.HttpMethod is "GET" or "HEAD"
            ? Route(request.Url?.PathAndQuery ?? "/")
            : (405, "text/plain; charset=utf-8", "only GET is supported");

    /// <summary>Answers one GET: <paramref name="pathAndQuery"/> is the request target (path and query string).</summary>
    internal (int Status, string ContentType, string Body) Route(string pathAndQuery)
    {
        const string html = "text/html; charset=utf-8";
        const string text = "text/plain; charset=utf-8";
        const string json = "application/json; charset=utf-8";
        var q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = q < 0 ? pathAndQuery : pathAndQuery[..q];
        var query = ParseQuery(q < 0 ? "" : pathAndQuery[(q + 1)..]);
        var parts = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        switch (parts)
        {
            case []:
            case ["runs"]:
                try
                {
                    var listQuery = ListQuery(query);
                    return (200, html, RunPages.RunList(_store.ListRuns(listQuery), listQuery));
                }
                catch (FlyteSharpException ex)
                {
                    return (400, html, RunPages.RunList(new RunPage([], null), new RunQuery(), ex.Reason));
                }

            case ["static", var asset]:
                return ConsoleAssets.Find(asset) is { } found ? (200, found.ContentType, found.Body) : (404, text, $"no asset '{asset}'");
            case ["runs", var name]:
                if (_store.GetRun(name, previewOnly: true) is not { } run)
                {
                    return (404, html, RunPages.NotFound($"There is no run named '{name}'."));
                }

                var logs = _store.ReadLogPage(name, null, 0, RunPages.LogRowsShown);
                return (200, html, RunPages.RunPage(run, _store.GetActions(name, previewOnly: true), logs.Lines, logs.Rows >= RunPages.LogRowsShown,
                    _store.TimeProvider.GetUtcNow()));
            case ["runs", var name, "logs", .. var rest] when rest.Length <= 1:
                // Found ones are streamed (see Stream); only misses get here.
                return _store.GetRun(name) is null
                    ? (404, text, $"no run named '{name}'")
                    : (404, text, rest.Length == 1 ? $"run '{name}' has no action '{rest[0]}'" : $"run '{name}' has no log");
            case ["api", "runs"]:
                try
                {
                    var page = _store.ListRuns(ListQuery(query));
                    return (200, json, JsonConvention.Serialize(new { runs = page.Runs.Select(RunApi.Run), next = page.Next }));
                }
                catch (FlyteSharpException ex)
                {
                    return (400, json, JsonConvention.Serialize(new { error = ex.Reason }));
                }

            case ["api", "runs", var name]:
                return _store.GetRun(name, previewOnly: true) is { } record
                    ? (200, json, JsonConvention.Serialize(new { run = RunApi.Run(record), actions = _store.GetActions(name, previewOnly: true).Select(a => RunApi.Action(name, a)) }))
                    : (404, json, JsonConvention.Serialize(new { error = $"no run named '{name}'" }));
            case ["api", "runs", var name, "logs"]:
                if (_store.GetRun(name, previewOnly: true) is null)
                {
                    return (404, json, JsonConvention.Serialize(new { error = $"no run named '{name}'" }));
                }

                if (!long.TryParse(query.GetValueOrDefault("after", "0"), NumberStyles.None, CultureInfo.InvariantCulture, out var after)
                    || !int.TryParse(query.GetValueOrDefault("limit", "1000"), NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
                {
                    return (400, json, JsonConvention.Serialize(new { error = "after and limit must be non-negative integers" }));
                }

                var numbered = _store.GetLogsAfter(name, query.GetValueOrDefault("action"), after, limit);
                return (200, json, JsonConvention.Serialize(new
                {
                    lines = numbered.Select(n => new { number = n.Number, n.Line.ActionId, n.Line.At, n.Line.Stream, n.Line.Text }),
                    next = numbered.Count == 0 ? after : numbered[^1].Number,
                }));
            case ["api", "runs", var name, "output"]:
                return NoOutput(name);
            case ["api", "runs", var name, "actions", _, "output"]:
                return NoOutput(name);
            default:
                return (404, html, RunPages.NotFound($"Nothing is served at {path}."));
        }
    }

    /// <summary>The run list's filters and cursor from query parameters (<c>status</c>, <c>task</c>, <c>since</c>, <c>until</c>, <c>limit</c>, <c>before</c>).</summary>
    /// <exception cref="FlyteSharpException">A parameter is not valid.</exception>
    internal static RunQuery ListQuery(IReadOnlyDictionary<string, string> query)
    {
        RunStatus? status = null;
        if (query.GetValueOrDefault("status") is { Length: > 0 } s)
        {
            status = Enum.GetValues<RunStatus>().Cast<RunStatus?>().FirstOrDefault(v => string.Equals(RunPages.ApiName(v!.Value), s, StringComparison.OrdinalIgnoreCase))
                ?? throw new FlyteSharpException($"status '{s}' is not one of {string.Join(", ", Enum.GetValues<RunStatus>().Select(v => RunPages.ApiName(v)))}");
        }

        DateTimeOffset? Time(string key) =>
            query.GetValueOrDefault(key) is not { Length: > 0 } t ? null
            : DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) ? parsed
            : throw new FlyteSharpException($"{key} '{t}' is not a time", fix: "use ISO-8601, e.g. 2026-11-27T09:00 (UTC unless an offset is given)");

        var limit = 50;
        if (query.GetValueOrDefault("limit") is { Length: > 0 } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > 1000))
        {
            throw new FlyteSharpException($"limit '{l}' must be a number from 1 to 1000");
        }

        return new RunQuery(status, query.GetValueOrDefault("task") is { Length: > 0 } task ? task : null, Time("since"), Time("until"), limit,
            query.GetValueOrDefault("before") is { Length: > 0 } before ? before : null);
    }

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            result.TryAdd(key, value);
        }

        return result;
    }
}

/// <summary>A response written straight to the connection (chunked), for bodies that may be large.</summary>
internal sealed record StreamedBody(string ContentType, string? FileName, Func<Stream, CancellationToken, Task> Write);
