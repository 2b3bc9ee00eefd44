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

    // Tokens are gathered here and handed to MD5 a buffer at a time: a warm tag writes a few tokens per file, and each
    // call into the hash costs far more than copying its bytes. MD5 of the stream does not depend on how it is split.
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _buffered;

    // A token larger than the buffer, hashed on its own after everything buffered before it.
    private byte[]? _oversized;

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
        // A warm tag does this once per file, so it must not allocate.
        var pathLength = Encoding.UTF8.GetByteCount(relativePath);
        var span = Reserve(9 + pathLength + 9 + 1 + 9 + sha256.Length);
        var at = Token(span, 7, pathLength);
        at += Encoding.UTF8.GetBytes(relativePath, span[at..]);
        at += Token(span[at..], 8, 1);
        span[at++] = executable ? (byte)1 : (byte)0;
        at += Token(span[at..], 9, sha256.Length);
        sha256.CopyTo(span[at..]);
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
    public string Finish()
    {
        Flush();
        return Convert.ToHexStringLower(_md5.GetHashAndReset());
    }

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
        var span = Reserve(9 + data.Length);
        data.CopyTo(span[Token(span, kind, data.Length)..]);
    }

    // The next size bytes of the stream, to be filled by the caller; an oversized token goes to MD5 in a buffer of its own.
    private Span<byte> Reserve(int size)
    {
        if (_oversized is not null || _buffered + size > _buffer.Length)
        {
            Flush();
        }

        if (size > _buffer.Length)
        {
            return _oversized = new byte[size];
        }

        var span = _buffer.AsSpan(_buffered, size);
        _buffered += size;
        return span;
    }

    private void Flush()
    {
        _md5.AppendData(_buffer, 0, _buffered);
        _buffered = 0;
        if (_oversized is not null)
        {
            _md5.AppendData(_oversized);
            _oversized = null;
        }
    }
}
