using System.Text;

namespace FlyteSharp.Execution;

/// <summary>
/// A write-only stream that buffers in memory up to a limit and then moves everything to a file: small JSON stays a
/// string without touching the disk, large JSON never becomes one.
/// </summary>
internal sealed class SpillStream(string file, long limit) : Stream
{
    private MemoryStream? _memory = new();
    private FileStream? _file;

    /// <summary>True once the content passed the limit and went to the file.</summary>
    public bool Spilled => _file is not null;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _file?.Length ?? _memory!.Length;

    public override long Position
    {
        get => Length;
        set => throw new NotSupportedException();
    }

    /// <summary>The buffered content as UTF-8 text (only when not spilled).</summary>
    public string BufferedText() => Encoding.UTF8.GetString(_memory!.GetBuffer(), 0, (int)_memory.Length);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_memory is not null && _memory.Length + buffer.Length > limit)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            _file = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            _file.Write(_memory.GetBuffer(), 0, (int)_memory.Length);
            _memory = null;
        }

        if (_file is not null)
        {
            _file.Write(buffer);
        }
        else
        {
            _memory!.Write(buffer);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush() => _file?.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _file?.FlushAsync(cancellationToken) ?? Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file?.Dispose();
        }

        base.Dispose(disposing);
    }
}
