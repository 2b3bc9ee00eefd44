using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using FlyteSharp.Configuration;
using FlyteSharp.Content;
using Polly;

namespace FlyteSharp.Registry;

/// <summary>
/// The small part of the OCI distribution API FlyteSharp needs: ping, blob HEAD/GET/upload (monolithic
/// POST + PUT, the registry verifies the digest), manifest HEAD/GET/PUT. Credentials come from the docker/podman
/// auth files; Basic and Bearer-token challenges are answered. Every request goes through <see cref="RegistryRetry"/>
/// (5xx, 429 and connection errors retried with exponential backoff, <c>Retry-After</c> honoured), then a failure is
/// reported as a <see cref="FlyteSharpException"/> naming the registry.
/// </summary>
internal sealed class OciRegistryClient : IDisposable
{
    public const string OciManifestMediaType = "application/vnd.oci.image.manifest.v1+json";

    private static readonly string[] ManifestAccept =
    [
        OciManifestMediaType, "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
    ];

    private readonly HttpClient _http;
    private readonly RegistryCredentials? _credentials;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, AuthenticationHeaderValue> _authorization = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private ResiliencePipeline<HttpResponseMessage>? _pipeline;

    public OciRegistryClient(string host, FlyteConfig config, HttpMessageHandler? handler = null, RegistryCredentials? credentials = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        Host = host;
        BaseUri = new Uri($"{(IsInsecure(host, config) ? "http" : "https")}://{host}/");
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan; // big blobs: callers cancel instead
        _credentials = credentials ?? RegistryCredentials.Find(host);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>host[:port] as given.</summary>
    public string Host { get; }

    /// <summary><c>http://host/</c> for insecure registries and loopback, <c>https://host/</c> otherwise.</summary>
    public Uri BaseUri { get; }

    /// <summary>Attempts per request (first try included) for 5xx, 429 and connection errors; tests lower it.</summary>
    public int MaxAttempts { get; init; } = RegistryRetry.MaxAttempts;

    /// <summary>Delay before the first retry; doubled each time; tests lower it.</summary>
    public TimeSpan InitialBackoff { get; init; } = RegistryRetry.InitialBackoff;

    // Built on first use: MaxAttempts and InitialBackoff are init-only properties, set after the constructor ran.
    private ResiliencePipeline<HttpResponseMessage> Pipeline => _pipeline ??= RegistryRetry.Create(MaxAttempts, InitialBackoff, _time);

    internal static bool IsInsecure(string host, FlyteConfig config)
    {
        var name = host.StartsWith('[') ? host[..(host.IndexOf(']') + 1)] : host.Split(':')[0];
        return name is "localhost" or "127.0.0.1" or "[::1]" ||
               config.InsecureRegistries.Any(r => string.Equals(r, host, StringComparison.OrdinalIgnoreCase) || string.Equals(r, name, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary><c>GET /v2/</c>: throws unless the registry answers (after authentication).</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "v2/"), "", cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, "GET /v2/", cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/blobs/{digest}"), Pull(repository), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureAsync(response, $"HEAD blob {digest}", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Uploads a blob in one request (POST starts the session, PUT with <c>?digest=</c> completes it); the registry checks the digest.</summary>
    public async Task UploadBlobAsync(string repository, string digest, Func<Stream> open, long length, CancellationToken cancellationToken)
    {
        Uri location;
        using (var start = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"v2/{repository}/blobs/uploads/"), Push(repository), cancellationToken).ConfigureAwait(false))
        {
            await EnsureAsync(start, $"POST upload of {digest}", cancellationToken).ConfigureAwait(false);
            location = UploadLocation(start);
        }

        await CompleteUploadAsync(repository, location, digest, open, length, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes blob <paramref name="digest"/> of repository <paramref name="from"/> part of <paramref name="repository"/> without
    /// sending its bytes: <c>POST /v2/&lt;repository&gt;/blobs/uploads/?mount=&lt;digest&gt;&amp;from=&lt;from&gt;</c>, which a
    /// registry answers <c>201 Created</c> when it mounted the blob. A registry that cannot or will not mount answers
    /// <c>202 Accepted</c> with an ordinary upload session (the distribution spec: the client then continues that upload,
    /// it does not ask again): the blob is downloaded from <paramref name="from"/> into a temporary file, its digest
    /// checked, and uploaded into that session.
    /// </summary>
    /// <returns>True when the registry mounted the blob, false when its bytes were copied.</returns>
    public async Task<bool> MountBlobAsync(string repository, string digest, string from, CancellationToken cancellationToken)
    {
        Uri location;
        var path = $"v2/{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(from)}";
        using (var start = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, path), Push(repository) + " " + Pull(from), cancellationToken).ConfigureAwait(false))
        {
            if (start.StatusCode == HttpStatusCode.Created)
            {
                return true;
            }

            await EnsureAsync(start, $"POST mount of {digest} from {from}", cancellationToken).ConfigureAwait(false);
            location = UploadLocation(start);
        }

        var temp = Path.Combine(Path.GetTempPath(), "flytesharp-blob-" + Guid.NewGuid().ToString("N"));
        try
        {
            long length;
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            await using (file.ConfigureAwait(false))
            {
                if (await DownloadBlobAsync(from, digest, file, cancellationToken).ConfigureAwait(false) is not { } arrived || arrived != digest)
                {
                    throw new FlyteSharpException($"registry {Host} did not mount blob {digest} into {repository}, and {from} does not hold it (or not with that digest)",
                        fix: $"push the image of {from} again, or build the image without the registry path (flytesharp build --force)");
                }

                length = file.Length;
            }

            await CompleteUploadAsync(repository, location, digest, () => File.OpenRead(temp), length, cancellationToken).ConfigureAwait(false);
            return false;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private Uri UploadLocation(HttpResponseMessage start) =>
        start.Headers.Location ?? throw new FlyteSharpException($"registry {Host} started an upload without a Location header",
            fix: "use an OCI distribution compliant registry");

    private async Task CompleteUploadAsync(string repository, Uri location, string digest, Func<Stream> open, long length, CancellationToken cancellationToken)
    {
        var url = (location.IsAbsoluteUri ? location : new Uri(BaseUri, location)).AbsoluteUri;
        url += (url.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest);
        using var put = await SendAsync(() =>
        {
            var content = new StreamContent(open(), 1 << 17);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = length;
            return new HttpRequestMessage(HttpMethod.Put, url) { Content = content };
        }, Push(repository), cancellationToken).ConfigureAwait(false);
        await EnsureAsync(put, $"PUT blob {digest}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads a blob into <paramref name="destination"/> and returns the digest of what arrived.</summary>
    public async Task<string?> DownloadBlobAsync(string repository, string digest, Stream destination, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/blobs/{digest}"), Pull(repository), cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, $"GET blob {digest}", cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var bodyDisposal = body.ConfigureAwait(false);
        return await VerifyingCopy.CopyAsync(body, destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>HEAD /v2/&lt;repository&gt;/manifests/&lt;reference&gt;</c>: true on 200, false on 404 (used to skip image builds and uploads).</summary>
    public async Task<bool> ManifestExistsAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Head, repository, reference), Pull(repository), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureAsync(response, $"HEAD manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The manifest's bytes, or null when there is none.</summary>
    public async Task<byte[]?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => ManifestRequest(HttpMethod.Get, repository, reference), Pull(repository), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, $"GET manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Puts a manifest under a tag (or its digest) and returns the manifest's digest.</summary>
    public async Task<string> PutManifestAsync(string repository, string reference, byte[] manifest, string mediaType, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() =>
        {
            var content = new ByteArrayContent(manifest);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, $"v2/{repository}/manifests/{reference}") { Content = content };
        }, Push(repository), cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, $"PUT manifest {repository}:{reference}", cancellationToken).ConfigureAwait(false);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest));
    }

    /// <summary>
    /// The <c>Authorization</c> header value that lets a plain HTTP client pull from <paramref name="repository"/>
    /// (a Bearer token scoped to pulling that repository, or the Basic credential when the registry asks for Basic),
    /// obtained by a <c>HEAD</c> of <paramref name="digest"/>; null when the registry needs none.
    /// </summary>
    public async Task<string?> PullAuthorizationAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/blobs/{digest}"), Pull(repository), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            await EnsureAsync(response, $"HEAD blob {digest}", cancellationToken).ConfigureAwait(false);
        }

        lock (_gate)
        {
            return _authorization.TryGetValue(Pull(repository), out var header) || _authorization.TryGetValue("*", out header) ? header.ToString() : null;
        }
    }

    public void Dispose() => _http.Dispose();

    private static string Pull(string repository) => $"repository:{repository}:pull";

    private static string Push(string repository) => $"repository:{repository}:pull,push";

    private static HttpRequestMessage ManifestRequest(HttpMethod method, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, $"v2/{repository}/manifests/{reference}");
        foreach (var type in ManifestAccept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        return request;
    }

    /// <summary>Sends with authentication and retries. The request factory is called once per attempt (bodies are re-opened).</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string scope, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var attempts = 0;
        var authenticated = false;
        var method = HttpMethod.Get;
        var path = "";
        try
        {
            return await Pipeline.ExecuteAsync(async ct =>
            {
                attempts++;
                while (true)
                {
                    using var request = create();
                    if (!request.RequestUri!.IsAbsoluteUri)
                    {
                        request.RequestUri = new Uri(BaseUri, request.RequestUri);
                    }

                    (method, path) = (request.Method, request.RequestUri.AbsolutePath);
                    lock (_gate)
                    {
                        if (_authorization.TryGetValue(scope, out var header) || _authorization.TryGetValue("*", out header))
                        {
                            request.Headers.Authorization = header;
                        }
                    }

                    var response = await _http.SendAsync(request, completion, ct).ConfigureAwait(false);
                    if (response.StatusCode == HttpStatusCode.Unauthorized && !authenticated &&
                        AuthChallenge.Parse(response.Headers.WwwAuthenticate.ToString()) is { } challenge)
                    {
                        // An auth round trip is not a failed attempt: answer the challenge and send again.
                        response.Dispose();
                        await AuthenticateAsync(challenge, scope, ct).ConfigureAwait(false);
                        authenticated = true;
                        continue;
                    }

                    return response;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new FlyteSharpException($"registry {Host} is not reachable ({method} {path}) after {attempts} attempt(s): {ex.Message}",
                fix: $"check that the registry at {BaseUri} is running and reachable; a plain-HTTP registry must be listed in images.insecure_registries", inner: ex);
        }
    }

    private async Task AuthenticateAsync(AuthChallenge challenge, string scope, CancellationToken cancellationToken)
    {
        if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (_credentials is null)
            {
                throw NoCredentials();
            }

            lock (_gate)
            {
                _authorization["*"] = new AuthenticationHeaderValue("Basic", _credentials.BasicHeader());
            }

            return;
        }

        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) || challenge["realm"] is not { } realm)
        {
            throw new FlyteSharpException($"registry {Host} asks for unsupported authentication '{challenge.Scheme}'", fix: "use a registry with Basic or Bearer-token authentication");
        }

        var query = new List<string>();
        if (challenge["service"] is { } service)
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        // Our scope (push or pull on the repository), or the one the registry named.
        // Several scopes (a mount needs push on one repository and pull on another) are several scope parameters.
        var wanted = scope.Length > 0 ? scope : challenge["scope"];
        foreach (var one in (wanted ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            query.Add("scope=" + Uri.EscapeDataString(one));
        }

        var tokenUrl = realm + (query.Count == 0 ? "" : (realm.Contains('?') ? "&" : "?") + string.Join("&", query));
        HttpResponseMessage response;
        try
        {
            response = await Pipeline.ExecuteAsync(async ct =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, tokenUrl);
                if (_credentials is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic", _credentials.BasicHeader());
                }

                return await _http.SendAsync(request, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new FlyteSharpException($"token service {realm} of registry {Host} is not reachable: {ex.Message}", fix: "check the network and the registry's auth configuration", inner: ex);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throw RateLimited($"token service {realm}", response);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw _credentials is null ? NoCredentials() : new FlyteSharpException($"registry {Host} refused the login ({(int)response.StatusCode} from {realm})",
                    fix: $"log in again: podman login {Host}");
            }

            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            var token = (json.RootElement.TryGetProperty("token", out var t) ? t.GetString() : null) ??
                        (json.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null) ??
                        throw new FlyteSharpException($"token service {realm} answered without a token", fix: "check the registry's auth configuration");
            lock (_gate)
            {
                _authorization[scope] = new AuthenticationHeaderValue("Bearer", token);
            }
        }
    }

    private FlyteSharpException RateLimited(string what, HttpResponseMessage response)
    {
        var wait = RegistryRetry.RetryAfter(response, _time);
        var asked = wait is { } w ? $"; it asks to wait {Math.Ceiling(w.TotalSeconds):0} s" : "";
        var tried = wait > RegistryRetry.MaxRetryAfter
            ? $"not retried: FlyteSharp waits at most {RegistryRetry.MaxRetryAfter.TotalSeconds:0} s"
            : $"after {MaxAttempts} attempt(s)";
        return new FlyteSharpException($"registry {Host} is rate limiting requests (429 Too Many Requests to {what}{asked}); {tried}",
            fix: $"wait and run again; log in (podman login {Host}) if anonymous requests get a lower limit, or raise the registry's rate limit");
    }

    private FlyteSharpException NoCredentials() =>
        new($"registry {Host} requires authentication and no credentials were found",
            fix: $"run `podman login {Host}` (or docker login); FlyteSharp reads $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json and ~/.docker/config.json");

    private async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            throw RateLimited(what, response);
        }

        var body = response.RequestMessage?.Method == HttpMethod.Head ? "" : await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var detail = body.Length > 500 ? body[..500] : body;
        var fix = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => $"log in (podman login {Host}) with an account that may push to this repository",
            HttpStatusCode.BadRequest when body.Contains("DIGEST_INVALID", StringComparison.Ordinal) => "the content does not match its digest: rebuild the bundle",
            >= HttpStatusCode.InternalServerError => $"the registry at {BaseUri} keeps failing: check its logs and storage",
            _ => "check the repository name and that the registry speaks the OCI distribution API",
        };
        throw new FlyteSharpException($"registry {Host} answered {(int)response.StatusCode} {response.ReasonPhrase} to {what}{(detail.Length > 0 ? ": " + detail.Trim() : "")}", fix: fix);
    }
}
