using System.Text;

namespace FlyteSharp.Bundles;

/// <summary>
/// Writes GNU-format tar with nothing that depends on the machine, the user or the moment:
/// fixed mtime, uid/gid 0, empty owner names, mode 0644 or 0755, no PAX headers (System.Formats.Tar
/// writes one with the process id in it). Names over 100 bytes use a GNU <c>././@LongLink</c> entry,
/// sizes over 8 GiB the GNU base-256 encoding. GNU tar, busybox tar, Python's tarfile and
/// System.Formats.Tar all read it.
/// </summary>
internal sealed class DeterministicTarWriter(Stream output)
{
    /// <summary>The mtime of every entry: 1980-01-01T00:00:00Z (tools warn about 1970; zip cannot go earlier).</summary>
    public const long FixedMTime = 315_532_800;

    private const int BlockSize = 512;
    private const int NameLength = 100;
    private readonly byte[] _header = new byte[BlockSize];

    /// <summary>Total bytes written so far.</summary>
    public long Position { get; private set; }

    /// <summary>Writes the header of a regular file; the caller then writes exactly <paramref name="size"/> bytes and calls <see cref="EndFile"/>.</summary>
    public void BeginFile(string relativePath, bool executable, long size)
    {
        WriteHeader(Name(relativePath), executable ? 0b111_101_101 : 0b110_100_100, size, (byte)'0');
    }

    /// <summary>Writes a directory entry with <paramref name="mode"/> (permission bits), for image layers that must keep a directory's mode.</summary>
    public void WriteDirectory(string relativePath, int mode) =>
        WriteHeader(Name(relativePath.TrimEnd('/') + "/"), mode & 0b111_111_111_111, 0, (byte)'5');

    // The header's name field; a longer name goes first as a GNU long-name pseudo-entry (its data is the NUL-terminated
    // name), and the real header gets the name truncated.
    private byte[] Name(string path)
    {
        var name = Encoding.UTF8.GetBytes(path);
        if (name.Length <= NameLength)
        {
            return name;
        }

        WriteHeader(Encoding.ASCII.GetBytes("././@LongLink"), 0b110_100_100, name.Length + 1, (byte)'L');
        WriteData(name);
        WriteData([0]);
        EndFile(name.Length + 1);
        return name[..NameLength];
    }

    /// <summary>Writes file content (any number of calls between <see cref="BeginFile"/> and <see cref="EndFile"/>).</summary>
    public void WriteData(ReadOnlySpan<byte> data)
    {
        output.Write(data);
        Position += data.Length;
    }

    /// <summary>Pads the entry's data to the 512-byte block boundary.</summary>
    public void EndFile(long size)
    {
        var pad = (int)((BlockSize - size % BlockSize) % BlockSize);
        if (pad > 0)
        {
            Span<byte> zeros = stackalloc byte[BlockSize];
            zeros.Clear();
            WriteData(zeros[..pad]);
        }
    }

    /// <summary>Writes the end-of-archive marker: two zero blocks.</summary>
    public void Finish()
    {
        Span<byte> zeros = stackalloc byte[BlockSize * 2];
        zeros.Clear();
        WriteData(zeros);
    }

    private void WriteHeader(byte[] name, int mode, long size, byte type)
    {
        var h = _header.AsSpan();
        h.Clear();
        name.CopyTo(h[..NameLength]);
        Octal(h.Slice(100, 8), mode);
        Octal(h.Slice(108, 8), 0); // uid
        Octal(h.Slice(116, 8), 0); // gid
        Size(h.Slice(124, 12), size);
        Octal(h.Slice(136, 12), FixedMTime);
        h[156] = type;
        "ustar  \0"u8.CopyTo(h.Slice(257, 8)); // GNU magic + version; uname/gname (265, 297) stay empty
        h.Slice(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in h)
        {
            sum += b;
        }

        // Checksum: six octal digits, NUL, space (the traditional layout every reader accepts).
        Octal(h.Slice(148, 7), sum);
        h[155] = (byte)' ';
        WriteData(h);
    }

    // Zero-padded octal, NUL-terminated, filling the field.
    private static void Octal(Span<byte> field, long value)
    {
        var digits = field.Length - 1;
        for (var i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }

        field[digits] = 0;
    }

    private static void Size(Span<byte> field, long size)
    {
        if (size < 1L << 33)
        {
            Octal(field, size);
            return;
        }

        // GNU base-256: high bit of the first byte set, big-endian binary in the rest.
        field.Clear();
        for (var i = field.Length - 1; i > 0 && size > 0; i--)
        {
            field[i] = (byte)(size & 0xFF);
            size >>= 8;
        }

        field[0] = 0x80;
    }
}
