using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using FlyteSharp.Worker;

namespace FlyteSharp.Tests.Worker;

/// <summary>
/// The worker's serve loop running in this process, driven one request at a time as a replica's driver drives it
/// (a request line in, its reply line out), so a test can look at the process between requests.
/// </summary>
internal sealed class ServeConnection : IAsyncDisposable
{
    private readonly LineFeed _requests = new();
    private readonly ReplyFeed _replies = new();
    private readonly StringWriter _stderr = new();
    private readonly Task<int> _loop;

    public ServeConnection(WorkerArguments arguments)
    {
        _loop = Task.Run(() => WorkerServe.RunAsync(arguments, _requests, _replies, _stderr, CancellationToken.None));
    }

    /// <summary>What the worker wrote on its standard error so far.</summary>
    public string Stderr => _stderr.ToString();

    /// <summary>Sends one request and waits for its reply (failing the test when none comes within a minute).</summary>
    public async Task<JsonElement> SendAsync(object request)
    {
        _requests.Send(JsonSerializer.Serialize(request) + "\n");
        var read = _replies.Lines.Reader.ReadAsync().AsTask();
        var first = await Task.WhenAny(read, _loop, Task.Delay(TimeSpan.FromMinutes(1)));
        Assert.True(first == read, _loop.IsCompleted ? $"the serve loop ended ({_loop.Status}): {_loop.Exception}" : "the worker did not answer within a minute");
        using var doc = JsonDocument.Parse(await read);
        return doc.RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        _requests.End();
        await _loop;
    }

    /// <summary>Standard input: the lines sent so far, then end of input once ended.</summary>
    private sealed class LineFeed : TextReader
    {
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private string _pending = "";
        private int _at;

        public void Send(string text) => _lines.Writer.TryWrite(text);

        public void End() => _lines.Writer.TryComplete();

        public override async ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default)
        {
            if (_at == _pending.Length)
            {
                if (!await _lines.Reader.WaitToReadAsync(cancellationToken))
                {
                    return 0;
                }

                _pending = await _lines.Reader.ReadAsync(cancellationToken);
                _at = 0;
            }

            var count = Math.Min(buffer.Length, _pending.Length - _at);
            _pending.AsSpan(_at, count).CopyTo(buffer.Span);
            _at += count;
            return count;
        }
    }

    /// <summary>The protocol stream: one reply per line.</summary>
    private sealed class ReplyFeed : TextWriter
    {
        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();

        public override Encoding Encoding => Encoding.UTF8;

        public override Task WriteLineAsync(string? value)
        {
            Lines.Writer.TryWrite(value ?? "");
            return Task.CompletedTask;
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
