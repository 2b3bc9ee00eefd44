using System.Security.Cryptography;
using System.Text.Json;
using FlyteSharp.Runs;

namespace FlyteSharp.Execution.Sandboxes;

/// <summary>
/// A run's private scratch directory, <c>{home}/sandboxes/{run}.{random}</c>, with an <c>owner.json</c> naming the
/// run and the process that made it. The random part makes every sandbox this process's own, so a second process
/// using the same run name (refused later as a duplicate) can never touch the first one's files; the owner file
/// lets a later sweep tell the sandbox of a live run from one a killed process left behind.
/// </summary>
internal static class RunSandbox
{
    /// <summary>The owner file's name inside a sandbox.</summary>
    public const string OwnerFileName = "owner.json";

    /// <summary>Where every sandbox of a FlyteSharp home lives.</summary>
    public static string Root(string home) => Path.Combine(home, "sandboxes");

    /// <summary>Creates a new, empty sandbox for <paramref name="runName"/> owned by this process.</summary>
    public static string Create(string home, string runName, DateTimeOffset now)
    {
        var root = Root(home);
        Directory.CreateDirectory(root);
        for (var attempt = 0; ; attempt++)
        {
            var path = Path.Combine(root, $"{runName}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
            try
            {
                // CreateDirectory succeeds on an existing directory: claim the name with the owner file, created exclusively.
                Directory.CreateDirectory(path);
                var owner = new SandboxOwner(runName, RunStore.Self.Host, RunStore.Self.Pid, RunStore.Self.Start, now);
                using var file = new FileStream(Path.Combine(path, OwnerFileName), FileMode.CreateNew, FileAccess.Write);
                JsonSerializer.Serialize(file, owner, JsonOptions);
                return path;
            }
            catch (IOException) when (attempt < 5 && File.Exists(Path.Combine(path, OwnerFileName)))
            {
                // Another sandbox drew the same random suffix: draw again.
            }
        }
    }

    /// <summary>The owner recorded in <paramref name="sandbox"/>, or null when the file is missing or unreadable.</summary>
    public static SandboxOwner? ReadOwner(string sandbox)
    {
        try
        {
            return JsonSerializer.Deserialize<SandboxOwner>(File.ReadAllText(Path.Combine(sandbox, OwnerFileName)), JsonOptions);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Deletes a sandbox; a failure leaves it for the next sweep.</summary>
    public static bool TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
