using System.Security.Cryptography;
using System.Text;
using FlyteSharp.Processes;

namespace FlyteSharp.Deploy;

/// <summary>
/// The interface digests of deploy checks' code tars, computed on the host by <c>interface_digest.py</c> (stdlib only,
/// one <c>python3 -I -S -B</c> process for all tars, which compiles and parses the files and never runs them): equal digests
/// mean the code differs at most inside function bodies nothing run at import can reach (see the script's docstring).
/// </summary>
/// <param name="Python">The host Python's <c>MAJOR.MINOR</c> that compiled the files.</param>
/// <param name="Digests">One per tar, in order: its digest, or null when it has none (the check must run).</param>
internal sealed record InterfaceDigest(string Python, IReadOnlyList<string?> Digests)
{
    /// <summary>File name of the script (embedded in the library).</summary>
    public const string ScriptName = "flytesharp_interface_digest.py";

    private static readonly Lazy<string> Script = new(() =>
    {
        using var stream = typeof(InterfaceDigest).Assembly.GetManifestResourceStream(ScriptName)
            ?? throw new InvalidOperationException($"embedded resource {ScriptName} is missing from the FlyteSharp assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    });

    /// <summary>The script's sha256 (part of every cache key: a changed rule invalidates what the old one allowed).</summary>
    public static string ScriptDigest { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Script.Value)));

    /// <summary>
    /// Digests <paramref name="tars"/>; null when the host Python cannot be run or answers anything unexpected (then no
    /// check is avoided).
    /// </summary>
    /// <param name="python">The host's Python (<c>FlyteConfig.Python</c>).</param>
    /// <param name="tars">The tars, as the check's container would unpack them.</param>
    /// <param name="cancellationToken">Kills the process.</param>
    public static async Task<InterfaceDigest?> ComputeAsync(string python, IReadOnlyList<string> tars, CancellationToken cancellationToken)
    {
        CliResult result;
        try
        {
            result = await CliProcess.RunAsync(python, ["-I", "-S", "-B", "-c", Script.Value, .. tars], cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (FlyteSharpException)
        {
            return null;
        }

        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!result.Succeeded || lines.Length != tars.Count + 1 || !lines[0].StartsWith("python ", StringComparison.Ordinal))
        {
            return null;
        }

        return new InterfaceDigest(lines[0]["python ".Length..], lines.Skip(1).Select(l => l.Length == 64 && l.All(char.IsAsciiHexDigitLower) ? l : null).ToArray());
    }
}
