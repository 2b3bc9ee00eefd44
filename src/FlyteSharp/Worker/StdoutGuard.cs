using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FlyteSharp.Worker;

/// <summary>
/// Keeps the serve loop's replies apart from everything else that writes to standard output: the replies move to a
/// duplicate of fd 1 (close-on-exec, so processes a task starts do not inherit it) and fd 1 itself becomes a copy of
/// fd 2. Task code's <c>Console.WriteLine</c> between calls and a child process's output then go to stderr.
/// </summary>
internal static partial class StdoutGuard
{
    private const int FDupFdCloexec = 1030;

    /// <summary>Moves the protocol off fd 1 (Linux) and returns a writer for it.</summary>
    /// <exception cref="FlyteSharpException">The descriptors could not be duplicated.</exception>
    public static TextWriter TakeProtocolStream()
    {
        var fd = DuplicateCloseOnExec(1, FDupFdCloexec, 3);
        if (fd < 0 || Dup2(2, 1) < 0)
        {
            throw new FlyteSharpException($"cannot separate the serve protocol from stdout (errno {Marshal.GetLastPInvokeError()})",
                fix: "run the worker with --serve only where its stdout and stderr are open (a container's attached stdio)");
        }

        var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, 1);
        return new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int DuplicateCloseOnExec(int fd, int command, int lowest);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int from, int to);
}
