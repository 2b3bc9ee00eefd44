using System.Text.Json;

namespace FlyteSharp.Worker;

/// <summary>
/// Downloads the .NET bundle from an http(s) URL (a registry blob of an <c>oci://</c> store). With a credentials file
/// (<c>--bundle-auth-file</c>, the same file the Python runner reads) its <c>Authorization</c> value goes to the registry
/// only: redirects are followed by hand and a redirect to another host (a registry's blob storage) loses the header, as
/// the Python runner's opener does. Errors name the URL and the HTTP status, never the credential.
/// </summary>
internal static class BundleDownload
{
    private const int MaxRedirects = 5;

    /// <summary>Downloads <paramref name="url"/> into <paramref name="target"/>.</summary>
    /// <exception cref="FlyteSharpException">The credentials file is unusable, or the download failed.</exception>
    public static async Task ToFileAsync(string url, string? authFile, string target, CancellationToken cancellationToken)
    {
        var authorization = authFile is null ? null : ReadAuthorization(authFile);
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(30) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(10) };
        var origin = new Uri(url);
        var current = origin;
        var sendCredentials = authorization is not null;
        for (var redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (sendCredentials)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new FlyteSharpException($"cannot download the .NET bundle: {ex.Message}", url, fix: "check that the container can reach the store", inner: ex);
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (redirects >= MaxRedirects)
                    {
                        throw new FlyteSharpException($"cannot download the .NET bundle: more than {MaxRedirects} redirects", url, fix: "check the store's registry configuration");
                    }

                    var next = new Uri(current, location);

                    // The registry's credential is for the registry: blob storage on another host never sees it.
                    sendCredentials = sendCredentials && string.Equals(next.Authority, origin.Authority, StringComparison.OrdinalIgnoreCase) && next.Scheme == origin.Scheme;
                    current = next;
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    var hint = status is 401 or 403
                        ? authorization is null ? " (the store wants credentials and none were given to the container)" : " (check the store's credentials)"
                        : "";
                    throw new FlyteSharpException($"cannot download the .NET bundle: HTTP {status} {response.ReasonPhrase}{hint}", url,
                        fix: status is 401 or 403 ? "log in to the store's registry on the driver's machine (podman login / REGISTRY_AUTH_FILE), or allow anonymous pulls" : "check that the store holds the bundle and that the container can reach it");
                }

                var file = File.Create(target);
                await using (file.ConfigureAwait(false))
                {
                    await response.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                }

                return;
            }
        }
    }

    /// <summary>The <c>authorization</c> value of the mounted credentials file.</summary>
    internal static string ReadAuthorization(string path)
    {
        string? value;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            value = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("authorization", out var a) && a.ValueKind == JsonValueKind.String
                ? a.GetString()
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // The type only: a half-readable file's text could be the credential.
            throw new FlyteSharpException($"cannot read the registry credentials file: {ex.GetType().Name}", path,
                fix: "the driver mounts it read-only for a private store; check the container's mounts");
        }

        if (string.IsNullOrWhiteSpace(value) || value.Contains('\r', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal))
        {
            throw new FlyteSharpException("the registry credentials file holds no usable 'authorization' value", path,
                fix: "it must be JSON {\"authorization\": \"Bearer <token>\"} (one line)");
        }

        return value;
    }
}
