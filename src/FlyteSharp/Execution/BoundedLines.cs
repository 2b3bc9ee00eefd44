using System.Text;

namespace FlyteSharp.Execution;

/// <summary>Splits text into lines without ever holding more than one bounded line: a line longer than the bound comes out in pieces.</summary>
internal static class BoundedLines
{
    /// <summary>How often <see cref="FollowAsync"/> looks for more text once it has read everything written so far.</summary>
    public static readonly TimeSpan FollowPollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Reads <paramref name="reader"/> to its end.</summary>
    public static Task ReadAsync(TextReader reader, int maxLineChars, Action<string> line, CancellationToken cancellationToken) =>
        FollowAsync(reader, maxLineChars, line, Task.CompletedTask, cancellationToken);

    /// <summary>
    /// Reads <paramref name="reader"/> as it grows (a file another process is writing) until <paramref name="writerDone"/>
    /// completes, then reads what is left. Only complete lines come out while the writer runs; a trailing piece without a
    /// newline comes out at the end, so a line is never split because it was read while being written.
    /// </summary>
    public static async Task FollowAsync(TextReader reader, int maxLineChars, Action<string> line, Task writerDone, CancellationToken cancellationToken)
    {
        var buffer = new char[1 << 15];
        var current = new StringBuilder();
        while (true)
        {
            // Checked before reading: text written before the writer finished is then read by this pass.
            var finished = writerDone.IsCompleted;
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

            if (finished)
            {
                break;
            }

            await Task.WhenAny(writerDone, Task.Delay(FollowPollInterval, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        if (current.Length > 0)
        {
            line(current.ToString());
        }
    }
}
