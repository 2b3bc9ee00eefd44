namespace FlyteSharp.Worker;

/// <summary>Requests as JSON lines on a reader (stdin), replies as lines on the protocol stream: the end of input ends the loop.</summary>
internal sealed class StreamServeChannel(TextReader input, TextWriter protocol, int maxLineChars) : IServeChannel
{
    private readonly BoundedLineReader _lines = new(input, maxLineChars);

    /// <inheritdoc/>
    public int ExitCode => 0;

    /// <inheritdoc/>
    public Task<BoundedLineReader.Line> ReadAsync(CancellationToken stop) => _lines.ReadAsync().WaitAsync(stop);

    /// <inheritdoc/>
    public async Task WriteAsync(string reply, CancellationToken stop)
    {
        await protocol.WriteLineAsync(reply).ConfigureAwait(false);
        await protocol.FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
