using System.Runtime.InteropServices;

namespace FlyteSharp.Bundles;

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
}

/// <summary>
/// Calls glibc's <c>stat</c>/<c>lstat</c> (exported since glibc 2.33) and reads <c>struct stat</c> by the
/// documented Linux layouts for x64 and arm64. Elsewhere <see cref="TryStat"/> returns false and callers
/// fall back to what .NET offers.
/// </summary>
internal static partial class UnixStat
{
    private static readonly (int Dev, int Ino, int Mode, int Size, int MTime, int CTime)? Layout =
        !OperatingSystem.IsLinux() ? null : RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => (0, 8, 24, 48, 88, 104),
            Architecture.Arm64 => (0, 8, 16, 48, 88, 104),
            _ => null,
        };

    private static volatile bool _unavailable;

    /// <summary>Stats <paramref name="path"/>; false when the file does not exist or stat is not available here.</summary>
    public static unsafe bool TryStat(string path, bool followLinks, out StatInfo info)
    {
        info = default;
        if (Layout is not { } l || _unavailable)
        {
            return false;
        }

        var buffer = stackalloc byte[256];
        int rc;
        try
        {
            rc = followLinks ? Stat(path, buffer) : LStat(path, buffer);
        }
        catch (EntryPointNotFoundException)
        {
            _unavailable = true;
            return false;
        }
        catch (DllNotFoundException)
        {
            _unavailable = true;
            return false;
        }

        if (rc != 0)
        {
            return false;
        }

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

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Stat(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int LStat(string path, byte* buffer);
}
