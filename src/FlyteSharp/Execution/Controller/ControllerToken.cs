using System.Security.Cryptography;
using System.Text;

namespace FlyteSharp.Execution.Controller;

/// <summary>
/// A run's controller token: 32 random bytes as 64 lower-case hex digits, compared in constant time, handed to workers
/// in a 0400 file (a Kubernetes Secret for Pods) — never on a command line, in a log or in a record. Hex, not base64:
/// it passes unchanged through every quoting and encoding layer it meets (HTTP headers, YAML, Secret data).
/// </summary>
internal sealed class ControllerToken
{
    private readonly byte[] _bytes;

    private ControllerToken(string value)
    {
        Value = value;
        _bytes = Encoding.ASCII.GetBytes(value);
    }

    /// <summary>The token's text (what follows <c>Bearer </c>).</summary>
    public string Value { get; }

    /// <summary>A new random token.</summary>
    public static ControllerToken Create() => new(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));

    /// <summary>Whether an <c>Authorization</c> header carries this token (constant time in the token's content).</summary>
    public bool Admits(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var presented = Encoding.UTF8.GetBytes(authorization.AsSpan(scheme.Length).Trim().ToString());
        return CryptographicOperations.FixedTimeEquals(presented, _bytes);
    }

    /// <summary>Writes the token to a new file only its owner can read (0400).</summary>
    public void WriteTo(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead;
        }

        using var file = new FileStream(path, options);
        file.Write(_bytes);
    }

    /// <inheritdoc/>
    public override string ToString() => "ControllerToken(…)";
}
