using System.Net;
using System.Text;
using System.Text.Json;

namespace FlyteSharp.Runs;

/// <summary>
/// The small web console behind run URLs: <c>/runs</c> lists runs, <c>/runs/{name}</c> shows one,
/// <c>/runs/{name}/logs[/{action}]</c> is plain text and <c>/api/runs/{name}</c> JSON — all read from the run store.
/// Built on <see cref="HttpListener"/>: a read-only page on loopback needs no web framework, keeps the CLI a plain
/// console app (no ASP.NET shared framework to install or load) and starts in milliseconds.
/// </summary>
internal sealed class RunConsoleServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
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
            response.Headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'";
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
            ? Route(request.Url?.AbsolutePath ?? "/")
            : (405, "text/plain; charset=utf-8", "only GET is supported");

    internal (int Status, string ContentType, string Body) Route(string path)
    {
        const string html = "text/html; charset=utf-8";
        const string text = "text/plain; charset=utf-8";
        var parts = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        switch (parts)
        {
            case []:
            case ["runs"]:
                return (200, html, RunPages.RunList(_store.ListRuns()));
            case ["runs", var name]:
                return _store.GetRun(name) is { } run
                    ? (200, html, RunPages.RunPage(run, _store.GetActions(name), _store.GetLogs(name)))
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
            case ["api", "runs", var name]:
                return _store.GetRun(name) is { } record
                    ? (200, "application/json", JsonSerializer.Serialize(new { run = record, actions = _store.GetActions(name) }, Json))
                    : (404, "application/json", JsonSerializer.Serialize(new { error = $"no run named '{name}'" }, Json));
            default:
                return (404, html, RunPages.NotFound($"Nothing is served at {path}."));
        }
    }
}
