using System.Net;
using System.Text;
using System.Globalization;

namespace FlyteSharp.Runs;

/// <summary>
/// The small web console behind run URLs: <c>/runs</c> lists runs (filters, paging), <c>/runs/{name}</c> shows one (updated
/// live by /static/console.js while it runs), <c>/runs/{name}/logs[/{action}]</c> is plain text and <c>/api/runs…</c> JSON in
/// the CLI's convention (docs/api.md) — all read from the run store, all GET.
/// Built on <see cref="HttpListener"/>: a read-only page on loopback needs no web framework, keeps the CLI a plain
/// console app (no ASP.NET shared framework to install or load) and starts in milliseconds.
/// </summary>
internal sealed class RunConsoleServer : IAsyncDisposable
{
    /// <summary>
    /// The pages' policy: scripts, styles and fetches only from this server (the console's own /static files), no inline
    /// script or style, no frames, forms only to itself.
    /// </summary>
    internal const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private readonly HttpListener _listener = new();
    private readonly RunStore _store;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <exception cref="FlyteSharpException">The port is not between 1 and 65535.</exception>
    public RunConsoleServer(RunStore store, int port)
    {
        if (port is < IPEndPoint.MinPort + 1 or > IPEndPoint.MaxPort)
        {
            throw new FlyteSharpException($"port {port} is not a TCP port", fix: "pass --port with a number from 1 to 65535 (and set [runs] console_url to match)");
        }

        _store = store;
        Port = port;
    }

    public int Port { get; }

    public string BaseUrl => $"http://localhost:{Port}";

    /// <summary>
    /// Listens on IPv4 loopback only, under both names a browser uses for it: <c>localhost</c> and <c>127.0.0.1</c>
    /// (HttpListener answers a request only when its Host header matches a prefix). <c>[::1]</c> is not served: .NET's
    /// managed HttpListener rejects IPv6 prefixes ("Invalid port in prefix").
    /// </summary>
    public void Start()
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

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_listener.IsListening)
        {
            _listener.Stop();
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _listener.Close();
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
                return _store.GetRun(name) is { } run
                    ? (200, html, RunPages.RunPage(run, _store.GetActions(name), _store.GetLogs(name), _store.TimeProvider.GetUtcNow()))
                    : (404, html, RunPages.NotFound($"There is no run named '{name}'."));
            case ["runs", var name, "logs", .. var rest] when rest.Length <= 1:
                if (_store.GetRun(name) is null)
                {
                    return (404, text, $"no run named '{name}'");
                }

                if (rest.Length == 1 && !_store.HasAction(name, rest[0]))
                {
                    return (404, text, $"run '{name}' has no action '{rest[0]}'");
                }

                var lines = _store.GetLogs(name, rest.Length == 1 ? rest[0] : null);
                return (200, text, string.Concat(lines.Select(l => $"{l.ActionId} {l.Stream}: {l.Text}\n")));
            case ["api", "runs"]:
                try
                {
                    var page = _store.ListRuns(ListQuery(query));
                    return (200, json, JsonConvention.Serialize(new { runs = page.Runs, next = page.Next }));
                }
                catch (FlyteSharpException ex)
                {
                    return (400, json, JsonConvention.Serialize(new { error = ex.Reason }));
                }

            case ["api", "runs", var name]:
                return _store.GetRun(name) is { } record
                    ? (200, json, JsonConvention.Serialize(new { run = record, actions = _store.GetActions(name) }))
                    : (404, json, JsonConvention.Serialize(new { error = $"no run named '{name}'" }));
            case ["api", "runs", var name, "logs"]:
                if (_store.GetRun(name) is null)
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
