using System.Globalization;
using System.Text;
using FlyteSharp.Controller;

namespace FlyteSharp.Execution.Controller;

/// <summary>
/// Minimal HTTP/1.1 framing for the controller API: one request per connection, Content-Length bodies only, every read
/// bounded in size and time. Hand-written because HttpListener cannot listen on a Unix socket and Kestrel would make
/// every driver and worker need the ASP.NET Core shared framework.
/// </summary>
internal static class ControllerHttp
{
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>Reads the request line and headers.</summary>
    /// <exception cref="ControllerHttpException">Malformed or too large (400, 431); the caller replies and closes.</exception>
    /// <exception cref="EndOfStreamException">The client closed the connection before the headers ended.</exception>
    public static async Task<ControllerHttpHead> ReadHeadAsync(Stream stream, ControllerHttpLimits limits, CancellationToken cancellationToken)
    {
        var buffer = new byte[limits.MaxHeadBytes];
        var filled = 0;
        int end;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException("the client closed the connection before the end of the headers");
            }

            // The terminator may straddle two reads: search from just before the new bytes.
            var from = Math.Max(0, filled - (HeadEnd.Length - 1));
            filled += read;
            end = buffer.AsSpan(from, filled - from).IndexOf(HeadEnd);
            if (end >= 0)
            {
                end += from;
                break;
            }

            if (filled == buffer.Length)
            {
                throw new ControllerHttpException(431, ControllerProtocol.ErrorTypes.HeadersTooLarge,
                    $"the request line and headers are larger than {limits.MaxHeadBytes} bytes");
            }
        }

        var text = Encoding.Latin1.GetString(buffer, 0, end);
        var lines = text.Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || !parts[0].All(c => c is >= 'A' and <= 'Z') || parts[1].Length == 0 || parts[1][0] != '/'
            || parts[2] is not ("HTTP/1.1" or "HTTP/1.0") || parts[1].Any(c => c <= ' ' || c >= 0x7f))
        {
            throw BadRequest($"'{Printable(lines[0])}' is not an HTTP/1.1 request line (METHOD /path HTTP/1.1)");
        }

        if (lines.Length - 1 > limits.MaxHeaders)
        {
            throw new ControllerHttpException(431, ControllerProtocol.ErrorTypes.HeadersTooLarge, $"more than {limits.MaxHeaders} header lines");
        }

        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line.AsSpan(0, colon).ContainsAny(" \t") || line.Any(c => c < ' ' && c != '\t' || c == 0x7f))
            {
                throw BadRequest($"malformed header line '{Printable(line)}'");
            }

            var name = line[..colon].ToLowerInvariant();
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (headers.TryGetValue(name, out var existing))
            {
                if (name is "content-length" or "authorization" or "host" or "transfer-encoding")
                {
                    if (existing != value || name is "authorization")
                    {
                        throw BadRequest($"header {name} is given twice");
                    }

                    continue;
                }

                value = existing + ", " + value;
            }

            headers[name] = value;
        }

        return new ControllerHttpHead(parts[0], parts[1], headers, buffer.AsMemory(end + HeadEnd.Length, filled - end - HeadEnd.Length));
    }

    /// <summary>The body's length from Content-Length, within the limit.</summary>
    /// <exception cref="ControllerHttpException">Chunked or missing length (411), not a number (400), too large (413).</exception>
    public static long ContentLength(ControllerHttpHead head, ControllerHttpLimits limits)
    {
        if (head.Header("transfer-encoding") is not null)
        {
            throw new ControllerHttpException(411, ControllerProtocol.ErrorTypes.LengthRequired, "Transfer-Encoding is not accepted: send the body with a Content-Length");
        }

        if (head.Header("content-length") is not { } text)
        {
            throw new ControllerHttpException(411, ControllerProtocol.ErrorTypes.LengthRequired, "the request has no Content-Length: send the body with one");
        }

        if (text.Length == 0 || text.Length > 19 || !text.All(char.IsAsciiDigit) || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            throw BadRequest($"Content-Length '{Printable(text)}' is not a number of bytes");
        }

        if (length > limits.MaxBodyBytes)
        {
            throw new ControllerHttpException(413, ControllerProtocol.ErrorTypes.TooLarge, $"the body is {length} bytes, more than the limit of {limits.MaxBodyBytes}");
        }

        return length;
    }

    /// <summary>Reads exactly <paramref name="length"/> body bytes (the head's leftover first).</summary>
    /// <exception cref="ControllerHttpException">More bytes were sent than announced (400).</exception>
    /// <exception cref="EndOfStreamException">The client closed the connection early.</exception>
    public static async Task<byte[]> ReadBodyAsync(Stream stream, ControllerHttpHead head, long length, CancellationToken cancellationToken)
    {
        if (head.Leftover.Length > length)
        {
            throw BadRequest("more bytes follow the body than its Content-Length says (one request per connection)");
        }

        var body = new byte[length];
        head.Leftover.CopyTo(body);
        var filled = head.Leftover.Length;
        while (filled < length)
        {
            var read = await stream.ReadAsync(body.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException($"the client closed the connection after {filled} of {length} body bytes");
            }

            filled += read;
        }

        return body;
    }

    /// <summary>Writes a complete response and asks the client to close (one request per connection).</summary>
    public static async Task WriteResponseAsync(Stream stream, int status, ReadOnlyMemory<byte> jsonBody, CancellationToken cancellationToken)
    {
        var head = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {Reason(status)}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {jsonBody.Length}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(jsonBody, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <c>100 Continue</c> to a client that waits for it before its body (curl does for bodies over 1 KiB).</summary>
    public static Task WriteContinueAsync(Stream stream, CancellationToken cancellationToken) =>
        stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), cancellationToken).AsTask();

    private static ControllerHttpException BadRequest(string message) => new(400, ControllerProtocol.ErrorTypes.BadRequest, message);

    private static string Printable(string text)
    {
        var cut = text.Length <= 80 ? text : text[..77] + "...";
        return new string(cut.Select(c => c < ' ' || c >= 0x7f ? '?' : c).ToArray());
    }

    private static string Reason(int status) => status switch
    {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
}
