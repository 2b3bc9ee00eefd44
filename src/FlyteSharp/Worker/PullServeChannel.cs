using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace FlyteSharp.Worker;

/// <summary>
/// The serve loop's requests pulled from the driver's controller API over HTTP (<c>--serve-pull URL --replica ID
/// --controller-token-file FILE</c>: a reusable Pod shares no stdio with the driver), the Python runner's pull channel
/// in C#: <c>GET URL/v1/replicas/ID/next</c> long-polls (200: one request, 204: none yet, ask again, 410: the driver
/// retired this replica, stop), <c>POST …/replies</c> hands each reply back, and <c>POST …/heartbeat</c> every few
/// seconds from the first poll on says the replica is alive while a call runs. Every request carries <c>Authorization: Bearer</c> with the
/// token read from FILE (a mounted Kubernetes Secret; never on the command line, never printed).
/// <para>
/// A controller that answers garbage cannot crash or hang the worker: bodies are read up to a bound (a larger request,
/// or one that is not a JSON object with a numeric <c>id</c>, stops the worker with a one-line reason and
/// <see cref="StoppedExitCode"/>, since no reply could complete it), error bodies are read up to 4 KiB and printed cut
/// and cleaned, every request has a timeout, and a driver unreachable for <c>--pull-give-up</c> seconds stops the loop.
/// A reply larger than the request's <c>max_reply_bytes</c> (or refused with 413) is replaced by a small error reply.
/// </para>
/// </summary>
internal sealed class PullServeChannel : IServeChannel, IDisposable
{
    /// <summary>The exit code when the loop stopped for a reason other than the driver's 410: refused, unreachable, or a request it could not use.</summary>
    public const int StoppedExitCode = 4;

    /// <summary>The error type of a reply replaced because it was too large for the driver.</summary>
    public const string ReplyTooLargeError = "flytesharp.ReplyTooLarge";

    private const int MaxErrorBodyBytes = 4096;
    private readonly HttpClient _http;
    private readonly string _base;
    private readonly string _display;
    private readonly TextWriter _stderr;
    private readonly TimeSpan _giveUp;
    private readonly int _maxRequestBytes;
    private readonly CancellationTokenSource _stopHeartbeat = new();
    private Task? _heartbeat;
    private long? _maxReply;
    private JsonElement? _lastId;
    private bool _ended;
    private bool _retired;

    private PullServeChannel(string url, string replica, string token, TimeSpan giveUp, int maxRequestBytes, TextWriter stderr)
    {
        // No proxy: the Pod reaches the driver directly, as the Python runner's opener does. No redirects: the token is
        // for the driver's controller only, and the driver never redirects.
        var handler = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(10), MaxResponseHeadersLength = 64 };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _display = url.TrimEnd('/');
        _base = _display + "/v1/replicas/" + Uri.EscapeDataString(replica);
        _giveUp = giveUp;
        _maxRequestBytes = maxRequestBytes;
        _stderr = stderr;
    }

    /// <summary>How long one poll may wait for the driver's answer (the driver answers 204 after its own wait, 25 s).</summary>
    internal static TimeSpan PollTimeout { get; set; } = TimeSpan.FromSeconds(40);

    /// <summary>A 204 sooner than this after its poll is followed by this pause before the next poll.</summary>
    private static readonly TimeSpan QuickPoll = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a heartbeat is sent.</summary>
    internal static TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <inheritdoc/>
    public int ExitCode { get; private set; }

    /// <summary>The channel of <paramref name="arguments"/> (<c>--serve-pull</c>): its token file is read now.</summary>
    /// <exception cref="FlyteSharpException">The token file is missing, unreadable or holds no usable token.</exception>
    public static PullServeChannel Open(WorkerArguments arguments, TextWriter stderr, int maxRequestBytes = WorkerServe.DefaultMaxLineChars)
    {
        var url = arguments.ServePull ?? throw new ArgumentException("not a --serve-pull command line", nameof(arguments));
        return new PullServeChannel(url, arguments.Replica!, ReadToken(arguments.ControllerTokenFile!), arguments.PullGiveUp, maxRequestBytes, stderr);
    }

    /// <inheritdoc/>
    public async Task<BoundedLineReader.Line> ReadAsync(CancellationToken stop)
    {
        // Heartbeats start with the first poll, after the starting bundle is in: the driver takes any contact as the replica
        // having started, and a bundle still downloading (then refused, exit 3) must fail the start, not a call.
        _heartbeat ??= Task.Run(() => HeartbeatAsync(_stopHeartbeat.Token), CancellationToken.None);
        long? failingSince = null;
        var delay = TimeSpan.FromMilliseconds(200);
        while (!_ended)
        {
            if (_retired)
            {
                return await EndAsync(0, "the driver retired this replica; stopping").ConfigureAwait(false);
            }

            stop.ThrowIfCancellationRequested();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(PollTimeout);
            var polled = Stopwatch.GetTimestamp();
            try
            {
                using var response = await _http.GetAsync(_base + "/next", HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (status == 200)
                {
                    var body = await ReadBoundedAsync(response.Content, _maxRequestBytes, timeout.Token).ConfigureAwait(false);
                    return body is null
                        ? await EndAsync(StoppedExitCode, $"the driver at {_display} sent a request larger than {_maxRequestBytes.ToString(CultureInfo.InvariantCulture)} bytes; stopping (no reply could answer it)").ConfigureAwait(false)
                        : await RequestAsync(body).ConfigureAwait(false);
                }

                if (status == 204)
                {
                    failingSince = null;
                    if (Stopwatch.GetElapsedTime(polled) < QuickPoll)
                    {
                        // The driver holds a poll until there is work; one that answers "none" at once is not let to make this a busy loop.
                        await Task.Delay(QuickPoll, stop).ConfigureAwait(false);
                    }

                    continue;
                }

                if (status == 410)
                {
                    return await EndAsync(0, "the driver retired this replica; stopping").ConfigureAwait(false);
                }

                var text = await ReadBoundedAsync(response.Content, MaxErrorBodyBytes, timeout.Token, cut: true).ConfigureAwait(false) ?? [];
                if (status is not (502 or 503 or 504))
                {
                    return await EndAsync(StoppedExitCode,
                        $"the driver at {_display} refused this replica's poll (HTTP {status.ToString(CultureInfo.InvariantCulture)}): {Printable(text)}; stopping").ConfigureAwait(false);
                }

                // A proxy in front of a driver that is restarting: like an unreachable driver, retried until the give-up.
                failingSince ??= Stopwatch.GetTimestamp();
                if (Stopwatch.GetElapsedTime(failingSince.Value) > _giveUp)
                {
                    return await EndAsync(StoppedExitCode, $"the driver at {_display} answered HTTP {status.ToString(CultureInfo.InvariantCulture)} for {Seconds(_giveUp)} s; stopping").ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !stop.IsCancellationRequested))
            {
                failingSince ??= Stopwatch.GetTimestamp();
                if (Stopwatch.GetElapsedTime(failingSince.Value) > _giveUp)
                {
                    return await EndAsync(StoppedExitCode, $"the driver's controller at {_display} is unreachable ({Describe(ex)}) for {Seconds(_giveUp)} s; stopping").ConfigureAwait(false);
                }
            }

            await Task.Delay(delay, stop).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }

        return new BoundedLineReader.Line(null, false);
    }

    /// <inheritdoc/>
    /// <remarks>Sent even after the stop signal (a call cancelled by SIGTERM still answers); each attempt has a timeout.</remarks>
    public async Task WriteAsync(string reply, CancellationToken stop)
    {
        var data = Encoding.UTF8.GetBytes(reply);
        if (_maxReply is { } limit && data.Length > limit)
        {
            data = TooLarge(data.Length, limit);
        }

        var (status, answer) = await PostAsync("/replies", data).ConfigureAwait(false);
        if (status == 413)
        {
            (status, answer) = await PostAsync("/replies", TooLarge(data.Length, _maxReply)).ConfigureAwait(false);
        }

        if (status == 410)
        {
            _retired = true;
        }
        else if (status is null)
        {
            await EndAsync(StoppedExitCode, $"the driver's controller at {_display} stayed unreachable for {Seconds(_giveUp)} s while this replica replied; stopping").ConfigureAwait(false);
        }
        else if (status is not (200 or 204))
        {
            await _stderr.WriteLineAsync($"flytesharp-worker: the driver refused a reply (HTTP {status.Value.ToString(CultureInfo.InvariantCulture)}): {Printable(answer)}").ConfigureAwait(false);
        }
    }

    /// <summary>Stops the heartbeat and closes the connections.</summary>
    public void Dispose()
    {
        _stopHeartbeat.Cancel();
        _heartbeat?.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Wait(TimeSpan.FromSeconds(5));
        _stopHeartbeat.Dispose();
        _http.Dispose();
    }

    private async Task<BoundedLineReader.Line> RequestAsync(byte[] body)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.Number || !id.TryGetInt64(out _))
            {
                return await EndAsync(StoppedExitCode, $"the driver at {_display} answered a poll with JSON that is not a serve request (no numeric \"id\"): {Printable(body)}; stopping").ConfigureAwait(false);
            }

            _lastId = id.Clone();
            _maxReply = root.TryGetProperty("max_reply_bytes", out var max) && max.ValueKind == JsonValueKind.Number && max.TryGetInt64(out var m) && m > 0 ? m : null;
        }
        catch (Exception ex) when (ex is JsonException or DecoderFallbackException)
        {
            return await EndAsync(StoppedExitCode, $"the driver at {_display} answered a poll with something that is not JSON: {Printable(body)}; stopping").ConfigureAwait(false);
        }

        return new BoundedLineReader.Line(text, false);
    }

    private byte[] TooLarge(int size, long? limit)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WritePropertyName("id");
            if (_lastId is { } id)
            {
                id.WriteTo(w);
            }
            else
            {
                w.WriteNullValue();
            }

            w.WriteBoolean("ok", false);
            w.WriteStartObject("error");
            w.WriteString("type", ReplyTooLargeError);
            w.WriteString("message", $"the task's reply is {size.ToString(CultureInfo.InvariantCulture)} bytes, more than {(limit is { } l ? $"the {l.ToString(CultureInfo.InvariantCulture)} bytes" : "what")} the driver accepts from a Pod; " +
                "return large data by reference (a path or URL) instead of by value");
            w.WriteString("traceback", "");
            w.WriteEndObject();
            w.WriteString("stdout", "");
            w.WriteString("stderr", "");
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>POSTs <paramref name="data"/>; connection failures are retried until the give-up (then the status is null).</summary>
    private async Task<(int? Status, byte[] Body)> PostAsync(string path, byte[] data)
    {
        var started = Stopwatch.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                using var content = new ByteArrayContent(data);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await _http.PostAsync(_base + path, content, timeout.Token).ConfigureAwait(false);
                return ((int)response.StatusCode, await ReadBoundedAsync(response.Content, MaxErrorBodyBytes, timeout.Token, cut: true).ConfigureAwait(false) ?? []);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
            {
                if (Stopwatch.GetElapsedTime(started) > _giveUp)
                {
                    return (null, []);
                }
            }

            await Task.Delay(delay).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(HeartbeatInterval, cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                using var content = new StringContent("{}", Encoding.UTF8, "application/json");
                using var response = await _http.PostAsync(_base + "/heartbeat", content, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
            {
                // A missed heartbeat is harmless: the driver counts silence over a minute, and polls count as contact too.
            }
        }
    }

    private async Task<BoundedLineReader.Line> EndAsync(int code, string message)
    {
        _ended = true;
        ExitCode = code;
        await _stderr.WriteLineAsync("flytesharp-worker: " + message).ConfigureAwait(false);
        await _stderr.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        return new BoundedLineReader.Line(null, false);
    }

    /// <summary>The body, or null when it is longer than <paramref name="limit"/> (then never held whole); cut at the limit instead with <paramref name="cut"/>.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, int limit, CancellationToken cancellationToken, bool cut = false)
    {
        if (!cut && content.Headers.ContentLength is { } length && length > limit)
        {
            return null;
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var streamDisposal = stream.ConfigureAwait(false);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        while (true)
        {
            var read = await stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit + 1L - buffer.Length)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                return cut ? buffer.GetBuffer().AsSpan(0, limit).ToArray() : null;
            }
        }
    }

    private static string ReadToken(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot read the controller token file: {ex.GetType().Name}", path,
                fix: "the driver mounts the run's token Secret there; check the Pod's volumes");
        }

        var token = text.Trim();
        if (token.Length == 0 || token.Any(c => c is < '!' or > '~'))
        {
            // Never the text itself: a half-usable file could still hold the token.
            throw new FlyteSharpException("the controller token file holds no usable token (empty, or not one line of printable ASCII)", path,
                fix: "the driver writes the run's token Secret; check that the Pod mounts it unchanged");
        }

        return token;
    }

    private static string Describe(Exception ex) => ex is OperationCanceledException ? "no answer in time" : Printable(Encoding.UTF8.GetBytes(ex.Message));

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>At most 300 characters of <paramref name="body"/>, control characters replaced: a hostile answer cannot flood or garble the log.</summary>
    private static string Printable(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 1200));
        var printable = new StringBuilder();
        foreach (var c in text)
        {
            if (printable.Length >= 300)
            {
                printable.Append('…');
                break;
            }

            printable.Append(char.IsControl(c) ? '?' : c);
        }

        return printable.Length == 0 ? "(empty body)" : printable.ToString();
    }
}
