using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlyteSharp.Runner;
using FlyteSharp.Storage;

namespace FlyteSharp.Deploy;

/// <summary>
/// Check avoidance: the describe answers of staged checks that passed, under <c>{home}/deploy-checks/{key}.json</c>, keyed
/// by everything the answer can depend on (<see cref="Key"/>). A deploy whose key has an entry uses its answers instead of
/// starting the check's container, exactly as if the container had given them (still only once the image is confirmed to
/// be made on that base). An entry is JSON with a format version, the key it was written under, the image's Python
/// version and the answers; anything else in the file (garbage, a truncated or foreign entry) is ignored and replaced.
/// </summary>
internal sealed class DeployCheckCache(string home)
{
    /// <summary>The entries' format; a change of what a key covers or of the entry's shape bumps it.</summary>
    public const int Format = 1;

    private const long MaxEntryBytes = 4 << 20;
    private const int MaxEntries = 256;

    /// <summary>The cache's folder.</summary>
    public string Directory { get; } = Path.Combine(home, "deploy-checks");

    /// <summary>
    /// The key of a staged check: the base's local image ID, the code's interface digest, the environment, working
    /// directory and command the check's container gets, the runner's and digest script's bytes, the task references and
    /// the host Python that compiled the code. The image's Python must equal the host's: an entry is only written (and
    /// only used) when the check's container reported the same <c>MAJOR.MINOR</c>.
    /// </summary>
    public static string Key(
        StagedCheckImage staged, string interfaceDigest, string hostPython, IEnumerable<KeyValuePair<string, string>> env,
        IReadOnlyList<string> importPaths, IEnumerable<string> references)
    {
        var text = new StringBuilder()
            .Append("format\0").Append(Format).Append('\n')
            .Append("base\0").Append(staged.BaseId).Append('\n')
            .Append("interface\0").Append(interfaceDigest).Append('\n')
            .Append("python\0").Append(hostPython).Append('\n')
            .Append("runner\0").Append(Convert.ToHexStringLower(SHA256.HashData(PythonRunnerScript.Bytes))).Append('\n')
            .Append("digest-script\0").Append(InterfaceDigest.ScriptDigest).Append('\n')
            .Append("unpack\0").Append(DeployCheck.Unpack).Append('\n')
            .Append("executable\0").Append(staged.Full.PythonExecutable).Append('\0').Append(staged.Full.RunnerPath).Append('\0').Append(staged.Full.CodeDirectory).Append('\n')
            .Append("workdir\0").Append(staged.WorkingDirectory).Append('\n');
        foreach (var (name, value) in env)
        {
            text.Append("env\0").Append(name).Append('\0').Append(value).Append('\n');
        }

        foreach (var path in importPaths)
        {
            text.Append("path\0").Append(path).Append('\n');
        }

        foreach (var reference in references)
        {
            text.Append("task\0").Append(reference).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// The answers stored under <paramref name="key"/> for exactly <paramref name="references"/>, or null: no entry, or
    /// one that is not a whole, well-formed entry of this format written under this key for this Python.
    /// </summary>
    public IReadOnlyList<PythonFunctionInfo>? TryRead(string key, string hostPython, IReadOnlyList<string> references)
    {
        try
        {
            var path = Path.Combine(Directory, key + ".json");
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxEntryBytes || info.LinkTarget is not null)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Number || format.GetInt32() != Format
                || !root.TryGetProperty("key", out var stored) || stored.GetString() != key
                || !root.TryGetProperty("python", out var python) || python.GetString() != hostPython
                || !root.TryGetProperty("describe", out var describe) || describe.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var infos = RunnerProtocol.ParseDescribe(describe);
            return infos.Count == references.Count && infos.Select(i => i.Task).SequenceEqual(references, StringComparer.Ordinal) 
                && infos.All(i => i.Ok && i.File is not null && i.Parameters.All(p => p.Name is not null && p.Kind is not null))
                ? infos
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Stores the answers of a check that passed (atomically; a failure to write is ignored: the next deploy checks
    /// again), and keeps the folder to the newest <see cref="MaxEntries"/> entries.
    /// </summary>
    public async Task WriteAsync(string key, string imagePython, string describeJson, CancellationToken cancellationToken)
    {
        try
        {
            var entry = new JsonObject
            {
                ["format"] = Format,
                ["key"] = key,
                ["python"] = imagePython,
                ["describe"] = JsonNode.Parse(describeJson),
            };
            var bytes = Encoding.UTF8.GetBytes(entry.ToJsonString());
            await AtomicFile.WriteAsync(Path.Combine(Directory, key + ".json"), (s, ct) => s.WriteAsync(bytes, ct).AsTask(), cancellationToken).ConfigureAwait(false);
            var entries = new DirectoryInfo(Directory).GetFiles("*.json");
            foreach (var old in entries.OrderByDescending(f => f.LastWriteTimeUtc).Skip(MaxEntries))
            {
                old.Delete();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // Not stored: the next deploy runs the check's container.
        }
    }
}
