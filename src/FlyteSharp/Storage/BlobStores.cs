using System.Text.RegularExpressions;
using FlyteSharp.Configuration;
using FlyteSharp.Registry;

namespace FlyteSharp.Storage;

/// <summary>Opens blob stores by URI: <c>file:///path</c> (the default, under FlyteSharp's home) or <c>oci://host[:port]/repository</c>.</summary>
public static partial class BlobStores
{
    /// <summary>Opens the store at <paramref name="uri"/>; an absolute local path is taken as <c>file://</c>.</summary>
    /// <param name="uri"><c>file:///…</c>, <c>oci://host[:port]/repository</c>, or an absolute directory path.</param>
    /// <param name="config">Settings (insecure registries for <c>oci://</c>).</param>
    /// <exception cref="FlyteSharpException">Unknown scheme or malformed URI.</exception>
    public static IBlobStore Open(string uri, FlyteConfig config)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(config);
        if (Path.IsPathRooted(uri) && !uri.Contains("://", StringComparison.Ordinal))
        {
            return new FileBlobStore(uri);
        }

        RefuseCredentials(uri, config.SourceFile);
        var colon = uri.IndexOf("://", StringComparison.Ordinal);
        var scheme = colon < 0 ? "" : uri[..colon].ToLowerInvariant();
        switch (scheme)
        {
            case "file":
                return new FileBlobStore(new Uri(uri).LocalPath);
            case "oci":
                var (host, repository) = ParseOci(uri);
                return new OciBlobStore(new OciRegistryClient(host, config), repository);
            default:
                throw new FlyteSharpException($"unknown store URI scheme in '{Redact(uri)}'", config.SourceFile,
                    fix: "use file:///path/to/store or oci://host[:port]/repository (storage.uri in flytesharp.toml, FLYTESHARP_STORE or --store)");
        }
    }

    /// <summary>Splits a blob URI (what <see cref="IBlobStore.PutAsync"/> returns) into its store URI and digest.</summary>
    /// <exception cref="FlyteSharpException">Not a blob URI of a known store.</exception>
    public static (string StoreUri, string Digest) ParseBlobUri(string blobUri)
    {
        ArgumentNullException.ThrowIfNull(blobUri);
        RefuseCredentials(blobUri, file: null);
        if (blobUri.StartsWith("oci://", StringComparison.OrdinalIgnoreCase))
        {
            var at = blobUri.LastIndexOf('@');
            if (at > 0 && Digests.IsValid(blobUri[(at + 1)..]))
            {
                ParseOci(blobUri[..at]);
                return (blobUri[..at], blobUri[(at + 1)..]);
            }
        }
        else if (blobUri.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            var path = new Uri(blobUri).LocalPath;
            var hex = Path.GetFileName(path);
            var dir = Path.GetDirectoryName(path);
            if (Digests.IsValid("sha256:" + hex) && dir is not null && Path.GetFileName(dir) == "sha256" && Path.GetFileName(Path.GetDirectoryName(dir)) == "blobs")
            {
                return (new Uri(Path.GetDirectoryName(Path.GetDirectoryName(dir))!).AbsoluteUri, "sha256:" + hex);
            }
        }

        throw new FlyteSharpException($"'{Redact(blobUri)}' is not a blob URI",
            fix: "use what `flytesharp bundle --store` printed: oci://host/repository@sha256:<hex> or file:///store/blobs/sha256/<hex>");
    }

    private static (string Host, string Repository) ParseOci(string uri)
    {
        var rest = uri["oci://".Length..].TrimEnd('/');
        var slash = rest.IndexOf('/');
        if (slash <= 0 || !RepositoryName().IsMatch(rest[(slash + 1)..]))
        {
            throw new FlyteSharpException($"'{Redact(uri)}' is not an OCI store URI",
                fix: "use oci://host[:port]/repository with a lowercase repository name, e.g. oci://127.0.0.1:5000/flytesharp/bundles");
        }

        var host = rest[..slash];
        if (!Uri.TryCreate($"http://{host}/", UriKind.Absolute, out var parsed) || parsed.PathAndQuery != "/" ||
            !string.Equals(parsed.Authority, host, StringComparison.OrdinalIgnoreCase) && !host.StartsWith('['))
        {
            throw new FlyteSharpException($"'{Redact(uri)}' is not an OCI store URI: '{host}' is not a host[:port]",
                fix: "use oci://host[:port]/repository with a host name or IP address and a port from 1 to 65535, e.g. oci://127.0.0.1:5000/flytesharp/bundles");
        }

        return (host, rest[(slash + 1)..]);
    }

    /// <summary>
    /// Refuses a URI with user information (<c>oci://user:password@host/…</c>): it would be taken for the host, sent
    /// nowhere useful and printed in errors. Credentials belong in the registry auth file, never in a URI.
    /// </summary>
    private static void RefuseCredentials(string uri, string? file)
    {
        if (UserInfoRange(uri) is null)
        {
            return;
        }

        var redacted = Redact(uri);
        var host = Authority(redacted)["***@".Length..];
        throw new FlyteSharpException(
            $"the store URI '{redacted}' holds credentials (user:password@); they are not read from a URI and are not shown",
            file,
            fix: $"remove them from the URI and log in instead: `podman login {host}` (or docker login) writes them to the auth file FlyteSharp reads " +
                 "($REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json, ~/.config/containers/auth.json or ~/.docker/config.json)");
    }

    /// <summary><paramref name="uri"/> with any user information (<c>user:password@</c>) replaced by <c>***@</c>, for messages.</summary>
    internal static string Redact(string uri) =>
        UserInfoRange(uri) is { } range ? string.Concat(uri.AsSpan(0, range.Start), "***", uri.AsSpan(range.End)) : uri;

    // The user:password part of scheme://user:password@host/…. For a file:// URI, everything before the last '@' of
    // the authority ('@' is a legal path character). For any other scheme, everything before the last '@' that is not
    // a blob URI's digest separator: '@' cannot appear in a host or repository name, and a password may hold '/', '?'
    // or '#' (characters that end the authority), which must not push it out of the redaction.
    private static (int Start, int End)? UserInfoRange(string uri)
    {
        var separator = uri.IndexOf("://", StringComparison.Ordinal);
        if (separator < 0)
        {
            return null;
        }

        var start = separator + 3;
        int end;
        if (uri.AsSpan(0, separator).Equals("file", StringComparison.OrdinalIgnoreCase))
        {
            end = uri.IndexOfAny(['/', '?', '#'], start) is var slash and >= 0 ? slash : uri.Length;
        }
        else
        {
            var last = uri.LastIndexOf('@');
            end = last >= start && DigestSuffix().IsMatch(uri[(last + 1)..]) ? last : uri.Length;
        }

        if (end <= start)
        {
            return null;
        }

        var at = uri.LastIndexOf('@', end - 1, end - start);
        return at < 0 ? null : (start, at);
    }

    [GeneratedRegex("^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")]
    private static partial Regex DigestSuffix();

    private static string Authority(string uri)
    {
        var start = uri.IndexOf("://", StringComparison.Ordinal) + 3;
        var end = uri.IndexOfAny(['/', '?', '#'], start) is var slash and >= 0 ? slash : uri.Length;
        return uri[start..end];
    }

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryName();
}
