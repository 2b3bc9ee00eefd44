using System.Net;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// Fault injection in front of the real <see cref="DistributionRegistry"/> (a registry cannot be made to fail or rate
/// limit on demand): a loopback HTTP server that answers the first requests with the scripted failures (status and an
/// optional <c>Retry-After</c>), optionally demands an <c>Authorization</c> value (a private store), and passes every
/// other request through to the registry unchanged. It records each request's arrival time and header. With
/// <c>throughProxy</c> the registry's upload locations are rewritten to point at the proxy, so every upload request is
/// seen (and counted) here; <c>rewriteUrl</c> changes a request's path and query on its way to the registry.
/// </summary>
internal sealed class FaultyRegistryProxy : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream = new();
    // An enumerator, not a queue: Always() is endless.
    private readonly IEnumerator<(HttpStatusCode Status, string? RetryAfter)> _failures;
    private readonly string _registryBase;
    private volatile string? _requiredAuthorization;
    private readonly Task _loop;
    private readonly bool _throughProxy;
    private readonly Func<string, string>? _rewriteUrl;

    public FaultyRegistryProxy(DistributionRegistry registry, IEnumerable<(HttpStatusCode Status, string? RetryAfter)> failures, string? requiredAuthorization = null,
        bool throughProxy = false, Func<string, string>? rewriteUrl = null)
    {
        _throughProxy = throughProxy;
        _rewriteUrl = rewriteUrl;
        _registryBase = registry.BaseUrl;
        _failures = failures.GetEnumerator();
        _requiredAuthorization = requiredAuthorization;
        for (var attempt = 0; ; attempt++)
        {
            Port = Random.Shared.Next(20000, 60000);
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    /// <summary>Method, path with query (as received) and the status answered, of every request passed to the registry, in order.</summary>
    public List<(string Method, string Url, int Status)> Exchanges { get; } = [];

    /// <summary>The <c>Authorization</c> value every request must carry (null: none); changing it rotates the credential.</summary>
    public string? RequiredAuthorization
    {
        get => _requiredAuthorization;
        set => _requiredAuthorization = value;
    }

    /// <summary>Arrival time (UTC), method, path and Authorization header of every request, in order.</summary>
    public List<(DateTimeOffset At, string Method, string Path, string? Authorization)> Requests { get; } = [];

    /// <summary>Fails forever with <paramref name="status"/>.</summary>
    public static IEnumerable<(HttpStatusCode, string?)> Always(HttpStatusCode status, string? retryAfter = null)
    {
        while (true)
        {
            yield return (status, retryAfter);
        }
    }

    public void Dispose()
    {
        _listener.Close();
        _upstream.Dispose();
        _failures.Dispose();
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            await HandleAsync(context);
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var authorization = context.Request.Headers["Authorization"];
            (HttpStatusCode Status, string? RetryAfter)? failure;
            lock (Requests)
            {
                Requests.Add((DateTimeOffset.UtcNow, context.Request.HttpMethod, context.Request.Url!.AbsolutePath, authorization));
                failure = _failures.MoveNext() ? _failures.Current : null;
            }

            if (failure is { } fail)
            {
                response.StatusCode = (int)fail.Status;
                if (fail.RetryAfter is not null)
                {
                    response.AddHeader("Retry-After", fail.RetryAfter);
                }

                return;
            }

            if (_requiredAuthorization is not null && authorization != _requiredAuthorization)
            {
                response.StatusCode = (int)HttpStatusCode.Unauthorized;
                response.AddHeader("WWW-Authenticate", "Basic realm=\"flytesharp-test\"");
                return;
            }

            var rawUrl = context.Request.RawUrl!;
            using var forward = new HttpRequestMessage(new HttpMethod(context.Request.HttpMethod), _registryBase + (_rewriteUrl?.Invoke(rawUrl) ?? rawUrl));
            if (context.Request.Headers["Accept"] is { } accept)
            {
                forward.Headers.TryAddWithoutValidation("Accept", accept);
            }

            if (context.Request.HasEntityBody)
            {
                forward.Content = new StreamContent(context.Request.InputStream);
                if (context.Request.ContentType is { } type)
                {
                    forward.Content.Headers.TryAddWithoutValidation("Content-Type", type);
                }
            }

            using var answer = await _upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead);
            response.StatusCode = (int)answer.StatusCode;
            lock (Requests)
            {
                Exchanges.Add((context.Request.HttpMethod, rawUrl, (int)answer.StatusCode));
            }

            foreach (var name in new[] { "Location", "Docker-Content-Digest", "Docker-Upload-UUID" })
            {
                if (answer.Headers.TryGetValues(name, out var values))
                {
                    var value = values.First();
                    response.AddHeader(name, name == "Location" && _throughProxy ? value.Replace(_registryBase, $"http://{Host}", StringComparison.Ordinal) : value);
                }
            }

            if (answer.Content.Headers.ContentType is { } contentType)
            {
                response.ContentType = contentType.ToString();
            }

            if (answer.Content.Headers.ContentLength is { } length)
            {
                response.ContentLength64 = length;
            }

            await using var body = await answer.Content.ReadAsStreamAsync();
            await body.CopyToAsync(response.OutputStream);
        }
        finally
        {
            response.Close();
        }
    }
}
