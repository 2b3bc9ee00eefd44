using System.Buffers;
using System.Security.Cryptography;

namespace FlyteSharp.Content;

/// <summary>Copies a stream while computing its sha256 digest.</summary>
internal static class VerifyingCopy
{
    public static async Task<string> CopyAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 17);
        try
        {
            int n;
            while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
