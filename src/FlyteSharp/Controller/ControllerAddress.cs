using System.Globalization;

namespace FlyteSharp.Controller;

/// <summary>
/// Where a worker reaches the driver's controller API: <c>unix:/path/to/controller.sock</c> (container mode, the socket
/// bind-mounted into the container) or <c>http://host:port</c> (Kubernetes mode).
/// </summary>
internal sealed record ControllerAddress
{
    private ControllerAddress(string text, string? socketPath, Uri? baseUri)
    {
        Text = text;
        SocketPath = socketPath;
        BaseUri = baseUri ?? new Uri("http://controller/");
    }

    /// <summary>As written (<c>unix:…</c> or <c>http://…</c>).</summary>
    public string Text { get; }

    /// <summary>The Unix socket's path, or null for TCP.</summary>
    public string? SocketPath { get; }

    /// <summary>The base URI requests are made against (a placeholder host for a Unix socket).</summary>
    public Uri BaseUri { get; }

    /// <summary>A Unix socket address.</summary>
    public static ControllerAddress Unix(string socketPath) => new("unix:" + socketPath, socketPath, null);

    /// <summary>Parses <c>unix:/path</c> or <c>http://host:port</c>.</summary>
    /// <exception cref="FlyteSharpException">Neither form.</exception>
    public static ControllerAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith("unix:", StringComparison.Ordinal) && text.Length > "unix:".Length && text["unix:".Length] == '/')
        {
            return Unix(text["unix:".Length..]);
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.AbsolutePath == "/" && string.IsNullOrEmpty(uri.Query) && !uri.IsDefaultPort)
        {
            return new ControllerAddress(text, null, uri);
        }

        throw new FlyteSharpException($"controller address '{text}' is neither unix:/absolute/path nor http://host:port",
            fix: $"pass --controller unix:{ControllerProtocol.ContainerSocketPath} (container mode) or --controller http://<driver host>:<port> (Kubernetes mode)");
    }

    /// <summary>A TCP address from a host and port.</summary>
    public static ControllerAddress Http(string host, int port) =>
        Parse(string.Create(CultureInfo.InvariantCulture, $"http://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}/"));

    /// <inheritdoc/>
    public override string ToString() => Text;
}
