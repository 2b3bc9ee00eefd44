using System.Security.Cryptography;
using System.Text;

namespace FlyteSharp.Images;

/// <summary>
/// Builds an image tag: MD5 over an unambiguous token stream. Every token is a one-byte kind plus an
/// 8-byte length plus its bytes, so no two different layer stacks can serialize to the same stream
/// (unlike plain concatenation, where "ab"+"c" equals "a"+"bc").
/// </summary>
internal sealed class CanonicalHasher : IDisposable
{
    private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    private readonly byte[] _header = new byte[9];

    /// <summary>Starts a layer (or any structured record) of the given kind.</summary>
    public void Begin(string kind) => Write(1, Encoding.UTF8.GetBytes(kind));

    /// <summary>Ends the current record.</summary>
    public void End() => Write(2, []);

    /// <summary>A named string field (null is distinct from empty).</summary>
    public void Field(string name, string? value)
    {
        Write(3, Encoding.UTF8.GetBytes(name));
        if (value is null)
        {
            Write(4, []);
        }
        else
        {
            Write(5, Encoding.UTF8.GetBytes(value));
        }
    }

    /// <summary>A named list of strings, order preserved.</summary>
    public void Field(string name, IReadOnlyList<string> values)
    {
        Write(3, Encoding.UTF8.GetBytes(name));
        Write(6, Count(values.Count));
        foreach (var v in values)
        {
            Write(5, Encoding.UTF8.GetBytes(v));
        }
    }

    /// <summary>A file: POSIX relative path, executable bit and the SHA-256 of its bytes.</summary>
    public void File(string relativePath, bool executable, byte[] sha256)
    {
        // The three tokens go to MD5 in one call: a warm tag does this once per file, so it must not allocate.
        var pathLength = Encoding.UTF8.GetByteCount(relativePath);
        var size = 9 + pathLength + 9 + 1 + 9 + sha256.Length;
        var rented = size <= 1024 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(size);
        var buffer = rented is null ? stackalloc byte[size] : rented.AsSpan(0, size);
        var at = Token(buffer, 7, pathLength);
        at += Encoding.UTF8.GetBytes(relativePath, buffer[at..]);
        at += Token(buffer[at..], 8, 1);
        buffer[at++] = executable ? (byte)1 : (byte)0;
        at += Token(buffer[at..], 9, sha256.Length);
        sha256.CopyTo(buffer[at..]);
        _md5.AppendData(buffer);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>A set of files (must already be sorted by relative path), with a count so sets cannot run together.</summary>
    public void Files(string name, IReadOnlyList<SelectedFile> files, FileDigestCache cache)
    {
        Write(3, Encoding.UTF8.GetBytes(name));
        Write(6, Count(files.Count));
        foreach (var f in files)
        {
            File(f.RelativePath, f.Executable, cache.Sha256(f.FullPath, f.Stat));
        }
    }

    /// <summary>The tag: lower-case MD5 hex.</summary>
    public string Finish() => Convert.ToHexStringLower(_md5.GetHashAndReset());

    /// <inheritdoc/>
    public void Dispose() => _md5.Dispose();

    private static byte[] Count(long n)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes, n);
        return bytes;
    }

    private static int Token(Span<byte> into, byte kind, int length)
    {
        into[0] = kind;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(into[1..], length);
        return 9;
    }

    private void Write(byte kind, ReadOnlySpan<byte> data)
    {
        _header[0] = kind;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(_header.AsSpan(1), data.Length);
        _md5.AppendData(_header);
        _md5.AppendData(data);
    }
}
