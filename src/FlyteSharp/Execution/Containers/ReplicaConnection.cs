using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using FlyteSharp.Files;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// The driver's end of a reusable container's serve socket (the runner's <c>--serve-socket</c>, see
/// <c>flytesharp_runner.py</c>): one JSON request line at a time, answered by the call's log messages and then its
/// response line, straight between the two processes instead of through podman's attached-stdio relay and conmon.
/// Everything read is the container's, so it is bounded and checked: a line longer than the bound, a line that is not
/// a JSON object with a numeric <c>id</c>, or a response to another request fails the call with a clear error (the
/// caller then discards the replica); log messages of an earlier request (a task's thread printing after its call
/// ended) are dropped.
/// </summary>
internal sealed class ReplicaConnection : IDisposable
{
    /// <summary>The socket's name in the replica's I/O folder (mounted at <see cref="ContainerRunSpec.IoMount"/>).</summary>
    public const string SocketName = "serve.sock";

    private const int NoSuchFile = 2;
    private const int InitialBufferBytes = 16 * 1024;
    private const int ShrinkAboveBytes = 1024 * 1024;

    private readonly Socket _socket;
    private readonly string _replica;
    private readonly int _maxLineBytes;
    private readonly ArrayBufferWriter<byte> _request = new(1024);
    private readonly Utf8JsonWriter _writer;
    private byte[] _buffer = new byte[InitialBufferBytes];
    private int _start;
    private int _end;
    private int _scanned;
    private long _nextId;
    private int _busy;

    private ReplicaConnection(Socket socket, string replica, int maxLineBytes)
    {
        _socket = socket;
        _replica = replica;
        _maxLineBytes = maxLineBytes;
        _writer = new Utf8JsonWriter(_request);
    }

    /// <summary>
    /// Connects to the socket at <paramref name="socketPath"/>. The path is in a folder the container can write, so it is
    /// opened without following a symlink and must be a socket; the connection goes through that open file
    /// (<c>/proc/self/fd/N</c>), so swapping the path in between changes nothing, and a long host path is no problem.
    /// </summary>
    /// <param name="socketPath">The socket on this host.</param>
    /// <param name="replica">The replica's name, for messages.</param>
    /// <param name="maxLineBytes">The longest line accepted from the container.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <exception cref="FlyteSharpException">The path is missing, a symlink, not a socket, or refuses the connection.</exception>
    public static async Task<ReplicaConnection> ConnectAsync(string socketPath, string replica, int maxLineBytes, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            if (UnixStat.TryOpenPathNoFollow(socketPath, out var handle, out var errno))
            {
                if (handle is null)
                {
                    throw Refused(socketPath, replica, errno == NoSuchFile ? "does not exist" : "could not be opened: " + Marshal.GetPInvokeErrorMessage(errno));
                }

                using (handle)
                {
                    if (!UnixStat.TryStatHandle(handle, out var info) || !info.IsSocket)
                    {
                        throw Refused(socketPath, replica, info.IsSymlink ? "is a symlink" : "is not a socket");
                    }

                    await socket.ConnectAsync(new UnixDomainSocketEndPoint("/proc/self/fd/" + handle.DangerousGetHandle().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                // Without the native open (not Linux): refuse a symlink, then connect by path.
                if (new FileInfo(socketPath).LinkTarget is not null)
                {
                    throw Refused(socketPath, replica, "is a symlink");
                }

                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
            }

            return new ReplicaConnection(socket, replica, maxLineBytes);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw Refused(socketPath, replica, "refused the connection: " + ex.Message);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends one request (<paramref name="body"/> writes its properties; the <c>id</c> is added) and reads until its
    /// response, passing the call's log lines to <paramref name="log"/> on the way.
    /// </summary>
    /// <returns>The response (an object whose <c>id</c> is the request's).</returns>
    /// <exception cref="EndOfStreamException">The runner closed the connection (it ended or crashed).</exception>
    /// <exception cref="SocketException">The connection broke.</exception>
    /// <exception cref="FlyteSharpException">The container sent something that is not the runner's protocol.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the connection is then in the middle of a call and must be discarded.</exception>
    public async Task<JsonDocument> SendAsync(Action<Utf8JsonWriter> body, Action<string, string>? log, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("a replica runs one request at a time");
        }

        try
        {
            var id = ++_nextId;
            _request.ResetWrittenCount();
            _writer.Reset(_request);
            _writer.WriteStartObject();
            _writer.WriteNumber("id", id);
            body(_writer);
            _writer.WriteEndObject();
            _writer.Flush();
            _request.GetSpan(1)[0] = (byte)'\n';
            _request.Advance(1);
            for (var sent = 0; sent < _request.WrittenCount;)
            {
                sent += await _socket.SendAsync(_request.WrittenMemory[sent..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }

            while (true)
            {
                var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
                var message = Parse(line);
                var root = message.RootElement;
                if (root.TryGetProperty("log", out var stream))
                {
                    using (message)
                    {
                        Log(root, stream, id, log);
                    }

                    continue;
                }

                var answered = root.GetProperty("id").GetInt64();
                if (answered != id)
                {
                    message.Dispose();
                    throw Garbage($"answered request {answered} instead of {id}");
                }

                return message;
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Closes the connection (the runner's serve loop then ends, and with it the container).</summary>
    public void Dispose()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already broken.
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }

        _socket.Dispose();
        _writer.Dispose();
    }

    private void Log(JsonElement root, JsonElement stream, long id, Action<string, string>? log)
    {
        if (root.TryGetProperty("text", out var text) is false || text.ValueKind != JsonValueKind.String
            || stream.ValueKind != JsonValueKind.String || (!stream.ValueEquals("stdout"u8) && !stream.ValueEquals("stderr"u8)))
        {
            throw Garbage("sent a log message without a stream (stdout, stderr) and a text");
        }

        if (log is null || root.GetProperty("id").GetInt64() != id)
        {
            return; // printed by a task's thread after its call had ended
        }

        var name = stream.ValueEquals("stdout"u8) ? "stdout" : "stderr";
        var lines = text.GetString()!;
        var end = lines.EndsWith('\n') ? lines.Length - 1 : lines.Length;
        var start = 0;
        while (start <= end)
        {
            var newline = lines.IndexOf('\n', start, end - start);
            var stop = newline < 0 ? end : newline;
            var length = stop > start && lines[stop - 1] == '\r' ? stop - start - 1 : stop - start;

            // The runner sends lines of at most a log chunk; a container that does not is cut to the same bound.
            for (var piece = 0; piece < length || (piece == 0 && length == 0); piece += Runs.RunStoreWriter.MaxLogChunkChars)
            {
                log(name, lines.Substring(start + piece, Math.Min(Runs.RunStoreWriter.MaxLogChunkChars, length - piece)));
            }

            start = stop + 1;
        }
    }

    private JsonDocument Parse(ReadOnlyMemory<byte> line)
    {
        JsonDocument message;
        try
        {
            // A copy: the read buffer is reused for the next line, the response outlives it.
            message = JsonDocument.Parse(line.ToArray());
        }
        catch (JsonException ex)
        {
            // The position only: the text is the container's (it could hold anything, secrets included).
            throw Garbage($"sent a line that is not JSON (byte {ex.BytePositionInLine + 1})");
        }

        var root = message.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.Number || !id.TryGetInt64(out _))
        {
            message.Dispose();
            throw Garbage("sent a line that is not a runner message (a JSON object with a numeric \"id\")");
        }

        return message;
    }

    /// <summary>The next line (without its newline), valid until the next read.</summary>
    private async ValueTask<ReadOnlyMemory<byte>> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_start + _scanned, _end - _start - _scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var length = _scanned + newline;
                var line = _buffer.AsMemory(_start, length);
                _start += length + 1;
                _scanned = 0;
                if (length > _maxLineBytes)
                {
                    throw TooLong();
                }

                return line;
            }

            _scanned = _end - _start;
            if (_scanned > _maxLineBytes)
            {
                throw TooLong();
            }

            if (_start == _end)
            {
                _start = _end = 0;
                if (_buffer.Length > ShrinkAboveBytes)
                {
                    // A large reply is over: a warm replica does not keep its memory for the rest of its life.
                    _buffer = new byte[InitialBufferBytes];
                }
            }
            else if (_end == _buffer.Length)
            {
                if (_start > 0)
                {
                    // Move the unfinished line to the front.
                    _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }
                else
                {
                    Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, (long)_maxLineBytes + 2));
                }
            }

            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException($"reusable container {_replica} closed its serve connection");
            }

            _end += read;
        }
    }

    private FlyteSharpException TooLong() =>
        Garbage($"sent a line longer than {_maxLineBytes} bytes");

    private FlyteSharpException Garbage(string what) =>
        new($"reusable container {_replica} {what}; the runner's serve socket carries its protocol only, so the task's code wrote to it",
            fix: "do not write to the runner's inherited descriptors from task code; print, or return the value from the task instead");

    private static FlyteSharpException Refused(string path, string replica, string reason) =>
        new($"the serve socket {path} of reusable container {replica} {reason}; the task's code can write the replica's I/O folder, but the socket is the runner's own",
            path, fix: "do not create, replace or link serve.sock from task code or the image");
}
