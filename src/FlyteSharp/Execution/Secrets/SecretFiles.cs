using System.Text;

namespace FlyteSharp.Execution.Secrets;

/// <summary>
/// Secret values on the host for the moment an action needs them as files: in a directory only this user can enter
/// (0700), on tmpfs (<c>/dev/shm</c>) when the machine has it so the value never reaches a disk, removed when the action ends.
/// </summary>
internal static class SecretFiles
{
    /// <summary>A fresh private directory for one action's secret files (on tmpfs when available, else under <paramref name="fallbackParent"/>).</summary>
    public static string CreatePrivateDirectory(string fallbackParent)
    {
        var name = "flytesharp-secrets-" + Guid.NewGuid().ToString("N");
        foreach (var parent in new[] { "/dev/shm", fallbackParent })
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
