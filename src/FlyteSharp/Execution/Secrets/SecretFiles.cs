using System.Globalization;
using System.Text;
using FlyteSharp.Runs;

namespace FlyteSharp.Execution.Secrets;

/// <summary>
/// Secret values on the host for the moment an action needs them as files: in a directory only this user can enter
/// (0700), on tmpfs (<c>/dev/shm</c>) when the machine has it so the value never reaches a disk, removed when the action ends.
/// </summary>
internal static class SecretFiles
{
    private const string SharedMemory = "/dev/shm";
    private const string Prefix = "flytesharp-secrets-";

    /// <summary>
    /// A fresh private directory for one action's (or one replica's) secret files (on tmpfs when available, else under
    /// <paramref name="fallbackParent"/>). The tmpfs name carries this process's id and start time: a driver killed before
    /// it removes the directory leaves it outside any sandbox, and <see cref="DeleteOrphans"/> finds it by them.
    /// </summary>
    public static string CreatePrivateDirectory(string fallbackParent)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{RunStore.Self.Pid}-{RunStore.Self.Start}-{Guid.NewGuid():N}");
        foreach (var parent in new[] { SharedMemory, fallbackParent })
        {
            if (!Directory.Exists(parent))
            {
                continue;
            }

            try
            {
                var path = Path.Combine(parent, name);
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(path);
                }
                else
                {
                    Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }

                return path;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not writable here: try the next parent.
            }
        }

        throw new FlyteSharpException($"cannot create a private directory for secret files under /dev/shm or {fallbackParent}",
            fix: "make the run sandbox folder writable");
    }

    /// <summary>
    /// Writes one value (creating directories below <paramref name="root"/> as 0700). The file is readable by everyone
    /// who can enter the directory, so a task running as a non-root user inside a container can still read its mount.
    /// </summary>
    public static void Write(string path, string value, string root)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(path, value, new UTF8Encoding(false));
            return;
        }

        const UnixFileMode privateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(root, privateDirectory);
        var relative = Path.GetRelativePath(root, directory);
        var current = root;
        foreach (var part in relative == "." ? [] : relative.Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, part);
            Directory.CreateDirectory(current, privateDirectory);
        }

        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        });
        stream.Write(new UTF8Encoding(false).GetBytes(value));
    }

    /// <summary>
    /// Removes the tmpfs secret directories of processes of this host that are gone (killed or crashed before they removed
    /// them): the values would otherwise stay in memory until the machine reboots. Another user's directories are left alone.
    /// </summary>
    /// <returns>The directories removed.</returns>
    public static IReadOnlyList<string> DeleteOrphans()
    {
        if (OperatingSystem.IsWindows() || !Directory.Exists(SharedMemory))
        {
            return [];
        }

        var removed = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories(SharedMemory, Prefix + "*"))
        {
            var parts = Path.GetFileName(directory)[Prefix.Length..].Split('-');
            if (parts.Length != 3
                || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                || RunStore.IsAlive(pid, start))
            {
                continue;
            }

            try
            {
                Directory.Delete(directory, recursive: true);
                removed.Add(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another user's, or removed meanwhile.
            }
        }

        return removed;
    }

    /// <summary>Removes a directory of secret files (best effort: a leftover is in a private, per-action directory).</summary>
    public static void Delete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
