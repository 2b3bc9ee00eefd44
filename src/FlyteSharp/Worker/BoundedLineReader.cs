using System.Text;

namespace FlyteSharp.Worker;

/// <summary>
/// Reads lines of at most a given length: a longer line is skipped to its end (never held in memory whole) and reported
/// as too long, so one hostile or broken request cannot exhaust the worker's memory or desynchronise the protocol.
/// </summary>
internal sealed class BoundedLineReader(TextReader reader, int maxChars)
{
    private readonly char[] _buffer = new char[1 << 16];
    private int _start;
    private int _end;

    /// <summary>One line: its text, or too long, or the end of input.</summary>
    public readonly record struct Line(string? Text, bool TooLong)
    {
        /// <summary>Nothing more to read.</summary>
        public bool EndOfInput => Text is null && !TooLong;
    }

    /// <summary>Reads the next line (without its line break; a trailing <c>\r</c> is dropped).</summary>
    public async Task<Line> ReadAsync()
    {
        var text = new StringBuilder();
        var tooLong = false;
        var any = false;
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await reader.ReadAsync(_buffer.AsMemory()).ConfigureAwait(false);
                if (_end == 0)
                {
                    return any ? Finish(text, tooLong) : new Line(null, false);
                }
            }

            any = true;
            var span = _buffer.AsSpan(_start, _end - _start);
            var newline = span.IndexOf('\n');
            var chunk = newline < 0 ? span : span[..newline];
            if (!tooLong)
            {
                if (text.Length + chunk.Length > maxChars + 1)
                {
                    tooLong = true;
                    text.Clear();
                }
                else
                {
                    text.Append(chunk);
                }
            }

            _start += newline < 0 ? span.Length : newline + 1;
            if (newline >= 0)
            {
                return Finish(text, tooLong);
            }
        }
    }

    private Line Finish(StringBuilder text, bool tooLong)
    {
        if (tooLong)
        {
            return new Line(null, true);
        }

        if (text.Length > 0 && text[^1] == '\r')
        {
            text.Length--;
        }

        return text.Length > maxChars ? new Line(null, true) : new Line(text.ToString(), false);
    }
}
