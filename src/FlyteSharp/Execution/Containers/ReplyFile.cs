using System.Text;
using FlyteSharp.Files;
using Microsoft.Win32.SafeHandles;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// Reads an action's reply (<c>outputs.json</c>) from its I/O folder, which the container can write: the task's code could
/// put a symlink there (to a host file, or <c>/dev/zero</c>), a FIFO (an open that never returns), or a file larger than
/// the driver's memory. The reply is therefore opened without following a symlink and without blocking, must be a
/// regular file, and is bounded by <see cref="Limit"/>.
/// </summary>
internal static class ReplyFile
{
    /// <summary>The largest reply read (512 MiB); larger values travel as offloaded outputs, not inline in the reply.</summary>
    public const long Limit = 512L * 1024 * 1024;

    private const int NoSuchFile = 2;
    private const int TooManyLinks = 40;

    /// <summary>The reply's text, or null when the container wrote none.</summary>
    /// <param name="path">The reply file (<c>{io}/outputs.json</c>).</param>
    /// <exception cref="FlyteSharpException">The reply is a symlink, not a regular file, too large, or unreadable.</exception>
    public static string? Read(string path)
    {
        var handle = Open(path);
        if (handle is null)
        {
            return null;
        }

        using (handle)
        {
            if (UnixStat.TryStatHandle(handle, out var stat) && !stat.IsRegularFile)
            {
                throw Refused(path, "is not a regular file (a FIFO, socket or device)");
            }

            try
            {
                using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
                if (stream.CanSeek && stream.Length > Limit)
                {
                    throw Refused(path, $"is {stream.Length} bytes, more than the {Limit} bytes a reply may have");
                }

                // Bounded even when the file grows while it is read (the container may still run).
                var buffer = new MemoryStream();
                var chunk = new byte[81920];
                int read;
                while ((read = stream.Read(chunk)) > 0)
                {
                    if (buffer.Length + read > Limit)
                    {
                        throw Refused(path, $"is more than the {Limit} bytes a reply may have");
                    }

                    buffer.Write(chunk, 0, read);
                }

                return new UTF8Encoding(false).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            }
            catch (IOException ex)
            {
                throw Refused(path, "could not be read: " + ex.Message, ex);
            }
        }
    }

    private static SafeFileHandle? Open(string path)
    {
        if (UnixStat.TryOpenNoFollow(path, out var handle, out var errno))
        {
            return errno switch
            {
                0 => handle,
                NoSuchFile => null,
                TooManyLinks => throw Refused(path, "is a symlink"),
                _ => throw Refused(path, "could not be opened: " + System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)),
            };
        }

        // Without the native open: refuse a symlink, then open (a FIFO could still block here).
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            throw Refused(path, "is a symlink");
        }

        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Refused(path, "could not be opened: " + ex.Message, ex);
        }
    }

    private static FlyteSharpException Refused(string path, string reason, Exception? inner = null) =>
        new($"the action's reply {path} {reason}; the task's code can write its I/O folder, but the reply is the runner's own file",
            path, fix: "do not create, replace or link outputs.json from task code; return the value from the task instead", inner: inner);
}
