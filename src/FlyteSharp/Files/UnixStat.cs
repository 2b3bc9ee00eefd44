using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;

namespace FlyteSharp.Files;

/// <summary>The parts of POSIX <c>stat</c> that .NET does not expose: file type, inode, ctime, nanosecond mtime.</summary>
internal readonly record struct StatInfo(uint Mode, long Size, ulong Device, ulong Inode, long MTimeSeconds, long MTimeNanoseconds, long CTimeSeconds, long CTimeNanoseconds)
{
    private const uint TypeMask = 0xF000;

    /// <summary>True for a regular file (S_IFREG).</summary>
    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;

    /// <summary>True for a directory (S_IFDIR).</summary>
    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    /// <summary>True for a symbolic link (S_IFLNK; only from lstat).</summary>
    public bool IsSymlink => (Mode & TypeMask) == 0xA000;

    /// <summary>True for a Unix domain socket (S_IFSOCK).</summary>
    public bool IsSocket => (Mode & TypeMask) == 0xC000;
}

/// <summary>
/// A directory entry as <c>readdir</c> gives it: its name and <c>d_type</c> (one of the <c>Dt*</c> constants).
/// A name that is not valid UTF-8 has <see cref="InvalidName"/> set to its bytes with <c>\xNN</c> escapes (for
/// messages) and <see cref="Name"/> decoded lossily: such a name cannot be opened through a .NET string.
/// </summary>
internal readonly record struct DirectoryEntry(string Name, byte Type, string? InvalidName = null);

/// <summary>
/// Calls glibc's <c>stat</c>/<c>lstat</c>/<c>fstatat</c> (exported since glibc 2.33) and
/// <c>opendir</c>/<c>readdir</c>, reading <c>struct stat</c> and <c>struct dirent</c> by the documented Linux
/// layouts for x64 and arm64. Elsewhere the methods return false and callers fall back to what .NET offers.
/// </summary>
/// <remarks>
/// Why not <see cref="System.IO.Enumeration.FileSystemEnumerable{TResult}"/> plus <see cref="FileInfo"/>: a
/// warm bundle rebuild is nothing but one metadata call per file, and .NET would add a second (its own lstat
/// for attributes) and resolve the full path each time. Here a directory is read once, its
/// <c>d_type</c> spares directories any stat, and each file costs one <c>fstatat</c> relative to its directory.
/// </remarks>
internal static partial class UnixStat
{
    /// <summary><c>d_type</c> values (Linux).</summary>
    public const byte DtUnknown = 0, DtDirectory = 4, DtRegular = 8, DtSymlink = 10;

    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;

    private static readonly (int Dev, int Ino, int Mode, int Size, int MTime, int CTime)? Layout =
        !OperatingSystem.IsLinux() ? null : RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => (0, 8, 24, 48, 88, 104),
            Architecture.Arm64 => (0, 8, 16, 48, 88, 104),
            _ => null,
        };

    private static volatile bool _unavailable;

    /// <summary>True when the native calls can be used here (Linux x64/arm64 with glibc ≥ 2.33).</summary>
    public static bool IsAvailable => Layout is not null && !_unavailable;

    /// <summary>Stats <paramref name="path"/>; false when the file does not exist or stat is not available here.</summary>
    public static unsafe bool TryStat(string path, bool followLinks, out StatInfo info)
    {
        info = default;
        if (!IsAvailable)
        {
            return false;
        }

        var buffer = stackalloc byte[256];
        int rc;
        try
        {
            rc = followLinks ? Stat(path, buffer) : LStat(path, buffer);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true;
            return false;
        }

        return rc == 0 && Parse(buffer, out info);
    }

    /// <summary>
    /// Reads every entry of <paramref name="path"/> (without <c>.</c> and <c>..</c>) into <paramref name="entries"/>
    /// and returns the open directory for <see cref="TryStatAt"/>; <see cref="CloseDirectory"/> it when done.
    /// Returns 0 when the native calls are not available here.
    /// </summary>
    /// <exception cref="IOException">The directory cannot be opened or read (the message carries errno's text).</exception>
    public static unsafe nint OpenAndReadDirectory(string path, List<DirectoryEntry> entries)
    {
        if (!IsAvailable)
        {
            return 0;
        }

        nint dir;
        try
        {
            dir = OpenDir(path);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true;
            return 0;
        }

        if (dir == 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), path);
        }

        try
        {
            while (true)
            {
                var entry = ReadDir(dir);
                if (entry == 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != 0)
                    {
                        throw Error(errno, path);
                    }

                    return dir;
                }

                // struct dirent (64-bit glibc): d_ino u64 @0, d_off i64 @8, d_reclen u16 @16, d_type u8 @18, d_name @19.
                var p = (byte*)entry;
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(p + 19);
                if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
                {
                    continue;
                }

                entries.Add(Utf8.IsValid(name)
                    ? new DirectoryEntry(Encoding.UTF8.GetString(name), p[18])
                    : new DirectoryEntry(Encoding.UTF8.GetString(name), p[18], Escape(name)));
            }
        }
        catch
        {
            _ = CloseDir(dir);
            throw;
        }
    }

    /// <summary>The bytes of a name as ASCII, every other byte as <c>\xNN</c>: unambiguous whatever the encoding.</summary>
    internal static string Escape(ReadOnlySpan<byte> name)
    {
        var text = new StringBuilder(name.Length);
        foreach (var b in name)
        {
            _ = b is >= 0x20 and < 0x7F && b != (byte)'\\' ? text.Append((char)b) : text.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
        }

        return text.ToString();
    }

    /// <summary>The file descriptor of a directory from <see cref="OpenAndReadDirectory"/>, for <see cref="TryStatAt"/>.</summary>
    public static int DirectoryFd(nint directory) => DirFd(directory);

    /// <summary><c>fstatat</c> of <paramref name="name"/> in an open directory, not following a final symlink.</summary>
    public static unsafe bool TryStatAt(int directoryFd, string name, out StatInfo info)
    {
        info = default;
        var buffer = stackalloc byte[256];
        int rc;
        try
        {
            rc = FStatAt(directoryFd, name, buffer, AtSymlinkNoFollow);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true;
            return false;
        }

        return rc == 0 && Parse(buffer, out info);
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading without following a final symlink and without blocking on a FIFO
    /// (<c>O_NOFOLLOW | O_NONBLOCK</c>), for files another party can replace; false when not available here.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="handle">The open file, or null when the open failed (see <paramref name="errno"/>).</param>
    /// <param name="errno">The open's error (<c>ENOENT</c> 2, <c>ELOOP</c> 40 for a symlink), or 0.</param>
    public static bool TryOpenNoFollow(string path, out Microsoft.Win32.SafeHandles.SafeFileHandle? handle, out int errno)
    {
        // O_RDONLY | O_NONBLOCK | O_CLOEXEC, and O_NOFOLLOW.
        return TryOpen(path, 0x800 | 0x80000 | NoFollow, out handle, out errno);
    }

    /// <summary>
    /// Opens <paramref name="path"/> as a location only (<c>O_PATH | O_NOFOLLOW</c>): a final symlink is opened itself,
    /// never followed, so <see cref="TryStatHandle"/> then says what the path named at that moment, and the handle keeps
    /// naming it (a Unix socket opened so is reached through <c>/proc/self/fd/N</c>) however the path changes afterwards.
    /// False when not available here.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="handle">The open location, or null when the open failed (see <paramref name="errno"/>).</param>
    /// <param name="errno">The open's error (<c>ENOENT</c> 2), or 0.</param>
    public static bool TryOpenPathNoFollow(string path, out Microsoft.Win32.SafeHandles.SafeFileHandle? handle, out int errno)
    {
        // O_PATH | O_CLOEXEC (the same on x64 and arm64), and O_NOFOLLOW.
        return TryOpen(path, 0x200000 | 0x80000 | NoFollow, out handle, out errno);
    }

    /// <summary><c>O_NOFOLLOW</c>, whose value differs between x64 and arm64.</summary>
    private static int NoFollow => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    private static bool TryOpen(string path, int flags, out Microsoft.Win32.SafeHandles.SafeFileHandle? handle, out int errno)
    {
        handle = null;
        errno = 0;
        if (!IsAvailable)
        {
            return false;
        }

        int fd;
        try
        {
            fd = Open(path, flags);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true;
            return false;
        }

        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return true;
        }

        handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        return true;
    }

    /// <summary><c>fstat</c> of an open file (through <c>fstatat</c> with <c>AT_EMPTY_PATH</c>).</summary>
    public static unsafe bool TryStatHandle(Microsoft.Win32.SafeHandles.SafeFileHandle handle, out StatInfo info)
    {
        ArgumentNullException.ThrowIfNull(handle);
        info = default;
        var buffer = stackalloc byte[256];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return FStatAt((int)handle.DangerousGetHandle(), "", buffer, AtEmptyPath) == 0 && Parse(buffer, out info);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Closes a directory from <see cref="OpenAndReadDirectory"/> (no-op for 0).</summary>
    public static void CloseDirectory(nint directory)
    {
        if (directory != 0)
        {
            _ = CloseDir(directory);
        }
    }

    private static unsafe bool Parse(byte* buffer, out StatInfo info)
    {
        var l = Layout!.Value;
        info = new StatInfo(
            *(uint*)(buffer + l.Mode),
            *(long*)(buffer + l.Size),
            *(ulong*)(buffer + l.Dev),
            *(ulong*)(buffer + l.Ino),
            *(long*)(buffer + l.MTime),
            *(long*)(buffer + l.MTime + 8),
            *(long*)(buffer + l.CTime),
            *(long*)(buffer + l.CTime + 8));
        return true;
    }

    private static IOException Error(int errno, string path) => new($"{Marshal.GetPInvokeErrorMessage(errno)}: '{path}'");

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Stat(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int LStat(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "fstatat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int FStatAt(int directoryFd, string name, byte* buffer, int flags);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "opendir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint OpenDir(string path);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static partial nint ReadDir(nint directory);

    [LibraryImport("libc", EntryPoint = "dirfd")]
    private static partial int DirFd(nint directory);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDir(nint directory);
}
