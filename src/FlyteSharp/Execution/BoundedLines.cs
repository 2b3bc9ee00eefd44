using System.Text;

namespace FlyteSharp.Execution;

/// <summary>Splits text into lines without ever holding more than one bounded line: a line longer than the bound comes out in pieces.</summary>
internal static class BoundedLines
{
    public static async Task ReadAsync(TextReader reader, int maxLineChars, Action<string> line, CancellationToken cancellationToken)
    {
        var buffer = new char[1 << 15];
        var current = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                var c = buffer[i];
                if (c == '\n')
                {
                    if (current.Length > 0 && current[^1] == '\r')
                    {
                        current.Length--;
                    }

                    line(current.ToString());
                    current.Clear();
                }
                else
                {
                    current.Append(c);
                    if (current.Length >= maxLineChars)
                    {
                        line(current.ToString());
                        current.Clear();
                    }
                }
            }
        }

        if (current.Length > 0)
        {
            line(current.ToString());
        }
    }
}
