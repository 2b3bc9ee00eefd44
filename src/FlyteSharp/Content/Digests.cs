using System.Security.Cryptography;

namespace FlyteSharp.Content;

/// <summary>Content digests as the OCI distribution spec writes them: <c>sha256:&lt;64 lowercase hex&gt;</c>.</summary>
internal static class Digests
{
    private const string Prefix = "sha256:";

    /// <summary>True for a well-formed sha256 digest.</summary>
    public static bool IsValid(string? digest) =>
        digest is { Length: 71 } && digest.StartsWith(Prefix, StringComparison.Ordinal) &&
        digest.AsSpan(Prefix.Length).ContainsAnyExcept(LowerHex) is false;

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>Throws a clear error unless <paramref name="digest"/> is well-formed; returns its hex part.</summary>
    public static string Hex(string digest)
    {
        if (!IsValid(digest))
        {
            throw new FlyteSharpException($"'{digest}' is not a sha256 digest", fix: "use the form sha256:<64 lowercase hex digits>, as `flytesharp bundle` prints it");
        }

        return digest[Prefix.Length..];
    }

    /// <summary>The sha256 digest of a whole file.</summary>
    public static async Task<string> OfFileAsync(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using var streamDisposal = stream.ConfigureAwait(false);
        return await OfStreamAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The sha256 digest of the rest of a stream.</summary>
    public static async Task<string> OfStreamAsync(Stream stream, CancellationToken cancellationToken) =>
        Prefix + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
}
