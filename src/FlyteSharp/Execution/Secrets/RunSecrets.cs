using System.Collections.Concurrent;
using System.Text;
using FlyteSharp.Configuration;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Secrets;

/// <summary>
/// The secrets of one run: each environment's secrets looked up when its first action starts (an environment variable
/// <c>FLYTESHARP_SECRET_{GROUP_}{KEY}</c>, else the file <c>{secrets dir}/{group}/{key}</c>), and every value found kept
/// so that log lines and error texts recorded for the run can be redacted.
/// </summary>
internal sealed class RunSecrets
{
    /// <summary>What recorded text shows in place of a secret's value.</summary>
    public const string Mask = "***";

    /// <summary>Values shorter than this are not redacted: masking every "a" or "1" would make logs unreadable and reveal the value anyway.</summary>
    internal const int MinRedactedLength = 3;

    private readonly FlyteConfig _config;
    private readonly Func<string, string?> _environment;
    private readonly ConcurrentDictionary<string, IReadOnlyList<ResolvedSecret>> _resolved = new(StringComparer.Ordinal);
    private volatile string[] _values = [];

    /// <param name="config">Settings (the secrets folder).</param>
    /// <param name="environment">Reads an environment variable (default: this process's environment).</param>
    public RunSecrets(FlyteConfig config, Func<string, string?>? environment = null)
    {
        _config = config;
        _environment = environment ?? Environment.GetEnvironmentVariable;
    }

    /// <summary>The environment variable a secret is looked up in.</summary>
    public static string SourceVariable(Secret secret) =>
        "FLYTESHARP_SECRET_" + Secret.DefaultVariable(secret.Group is null ? secret.Key : secret.Group + "_" + secret.Key).TrimStart('_');

    /// <summary>The file a secret is looked up in.</summary>
    public string SourceFile(Secret secret) =>
        secret.Group is null ? Path.Combine(_config.EffectiveSecretsDirectory, secret.Key) : Path.Combine(_config.EffectiveSecretsDirectory, secret.Group, secret.Key);

    /// <summary>
    /// The values of <paramref name="environment"/>'s secrets, looked up once per run. A secret found nowhere throws,
    /// naming it and every place looked.
    /// </summary>
    public IReadOnlyList<ResolvedSecret> Resolve(TaskEnvironment environment)
    {
        if (environment.Secrets.Count == 0)
        {
            return [];
        }

        return _resolved.GetOrAdd(environment.Name, _ =>
        {
            var result = environment.Secrets.Select(s => new ResolvedSecret(s, Lookup(environment, s))).ToArray();
            Remember(result.Select(r => r.Value));
            return result;
        });
    }

    /// <summary>Redacts <paramref name="value"/> from this run's recorded text too (a credential of the run itself, like its controller token).</summary>
    public void Protect(string value) => Remember([value]);

    /// <summary><paramref name="text"/> with every secret value of this run replaced by <see cref="Mask"/>.</summary>
    public string Redact(string text)
    {
        var values = _values;
        if (values.Length == 0 || text.Length == 0)
        {
            return text;
        }

        foreach (var value in values)
        {
            if (text.Contains(value, StringComparison.Ordinal))
            {
                text = text.Replace(value, Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }

    /// <summary><paramref name="text"/> redacted, or null.</summary>
    public string? RedactNullable(string? text) => text is null ? null : Redact(text);

    private void Remember(IEnumerable<string> values)
    {
        lock (_resolved)
        {
            // Longest first, so a value containing another is masked whole. Each line of a multi-line value is masked too:
            // logs arrive line by line.
            var all = _values.Concat(values.SelectMany(v => new[] { v }.Concat(v.Split('\n').Select(l => l.TrimEnd('\r')))))
                .Where(v => v.Length >= MinRedactedLength)
                .Distinct(StringComparer.Ordinal)
                .OrderByDescending(v => v.Length)
                .ToArray();
            _values = all;
        }
    }

    private string Lookup(TaskEnvironment environment, Secret secret)
    {
        var variable = SourceVariable(secret);
        var file = SourceFile(secret);
        string fileState;
        if (_environment(variable) is { Length: > 0 } fromEnvironment)
        {
            return Check(environment, secret, fromEnvironment, $"environment variable {variable}");
        }

        try
        {
            if (File.Exists(file))
            {
                var bytes = File.ReadAllBytes(file);
                var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
                // A file written with `echo value > file` ends in a newline that is not part of the value.
                text = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
                if (text.Length > 0)
                {
                    return Check(environment, secret, text, $"file {file}");
                }

                fileState = "is empty";
            }
            else
            {
                fileState = "does not exist";
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            fileState = $"cannot be read: {ex.Message}";
        }

        throw new FlyteSharpException(
            $"secret {secret.DisplayName} of task environment '{environment.Name}' was not found: environment variable {variable} is not set, and file {file} {fileState}",
            fix: $"set {variable}, or write the value to {file} (chmod 600); [secrets] directory / FLYTESHARP_SECRETS_DIR moves the folder");
    }

    private static string Check(TaskEnvironment environment, Secret secret, string value, string source) =>
        secret.EnvironmentVariable is not null && value.Contains('\0')
            ? throw new FlyteSharpException($"secret {secret.DisplayName} of task environment '{environment.Name}' ({source}) contains a NUL character, which an environment variable cannot hold",
                fix: "deliver it as a file (Mount) or store it encoded (e.g. base64)")
            : value;
}
