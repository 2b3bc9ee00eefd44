namespace FlyteSharp.Execution.Containers;

/// <summary>
/// A read-only stream whose content is supplied later (<see cref="Supply"/>): a container's stdin, started before its
/// inputs are known. Reads wait asynchronously — no thread is held while the container waits for its inputs.
/// </summary>
internal sealed class DeferredInput : Stream
{
    private readonly TaskCompletionSource<Stream> _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Supplies the content (read to its end, then disposed with this stream); the first call wins.</summary>
    public bool Supply(Stream content)
    {
        if (_source.TrySetResult(content))
        {
            return true;
        }

        content.Dispose();
        return false;
    }

    /// <summary>Ends the stream without content (a reader sees end of input).</summary>
    public void End() => Supply(Null);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var source = await _source.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            End();
            if (_source.Task.IsCompletedSuccessfully)
            {
                _source.Task.Result.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
