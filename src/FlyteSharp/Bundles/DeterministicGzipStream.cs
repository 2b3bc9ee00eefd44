using System.IO.Compression;
using System.IO.Hashing;

namespace FlyteSharp.Bundles;

/// <summary>
/// A write-only gzip stream whose header is fixed (mtime 0, no name, XFL 0, OS 255 "unknown"), so the
/// bytes do not depend on the moment or the operating system; the deflate body comes from the runtime's
/// zlib(-ng) at a fixed level. GZipStream would also write mtime 0 but stamps the OS byte of the
/// platform it runs on, which would make Windows and Linux bundles of the same files differ.
/// </summary>
internal sealed class DeterministicGzipStream : Stream
{
    private static readonly byte[] Header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    private readonly Stream _output;
    private readonly DeflateStream _deflate;
    private readonly Crc32 _crc = new();
    private long _length;
    private bool _finished;

    public DeterministicGzipStream(Stream output, int level)
    {
        _output = output;
        _output.Write(Header);
        _deflate = new DeflateStream(output, new ZLibCompressionOptions { CompressionLevel = level, CompressionStrategy = ZLibCompressionStrategy.Default }, leaveOpen: true);
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_finished;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _crc.Append(buffer);
        _length += buffer.Length;
        _deflate.Write(buffer);
    }

    /// <summary>Ends the deflate stream and writes the trailer (CRC-32 and size mod 2^32, little-endian).</summary>
    public void Finish()
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        _deflate.Dispose();
        Span<byte> trailer = stackalloc byte[8];
        _crc.GetCurrentHash(trailer[..4]); // System.IO.Hashing.Crc32 emits little-endian, as gzip wants
        BitConverter.TryWriteBytes(trailer[4..], (uint)_length);
        if (!BitConverter.IsLittleEndian)
        {
            trailer[4..].Reverse();
        }

        _output.Write(trailer);
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _deflate.Dispose();
        }

        base.Dispose(disposing);
    }
}
