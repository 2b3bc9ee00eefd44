using System.Text;
using System.Text.RegularExpressions;

namespace FlyteSharp.Tasks;

/// <summary>
/// A named reference to a secret a task needs (Flyte's <c>flyte.Secret(key=…, group=…, as_env_var=…, mount=…)</c>). Only
/// the name travels with the task: the value is looked up when an action starts (see docs/secrets.md) and delivered
/// inside the action as an environment variable (the default) or as a file — never written to the run store, logs,
/// the console, container settings or images.
/// </summary>
/// <param name="Key">The secret's key, e.g. <c>openai_api_key</c> (letters, digits, '.', '_' and '-').</param>
/// <param name="Group">
/// An optional group, e.g. <c>aws</c>: the file source reads <c>{secrets dir}/{group}/{key}</c>, and in kubernetes mode
/// the group is the Kubernetes Secret's name (the key its data key).
/// </param>
/// <param name="AsEnvVar">The environment variable the task reads it from; default: the key upper-cased (<c>OPENAI_API_KEY</c>).</param>
/// <param name="Mount">
/// Deliver as a file instead: the absolute directory the file <c>{Mount}/{Key}</c> appears in (containers and pods).
/// Local runs place it at the same path under <c>$FLYTESHARP_SECRETS_ROOT</c>.
/// </param>
public sealed partial record Secret(string Key, string? Group = null, string? AsEnvVar = null, string? Mount = null)
{
    /// <summary>The environment variable the value is delivered in, or null for a mounted file.</summary>
    public string? EnvironmentVariable => Mount is not null ? AsEnvVar : AsEnvVar ?? DefaultVariable(Key);

    /// <summary>Where the file is inside a container or pod (<c>{Mount}/{Key}</c>), or null for an environment variable.</summary>
    public string? FilePath => Mount is null ? null : Mount.TrimEnd('/') + "/" + Key;

    /// <summary>The secret's display name: <c>group/key</c> or <c>key</c>.</summary>
    public string DisplayName => Group is null ? Key : $"{Group}/{Key}";

    /// <summary>Throws a <see cref="FlyteSharpException"/> naming the environment when a field is not usable.</summary>
    internal void Validate(string environment)
    {
        if (string.IsNullOrEmpty(Key) || !KeyPattern().IsMatch(Key))
        {
            throw new FlyteSharpException($"secret key '{Key}' of task environment '{environment}' is not valid",
                fix: "use letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. \"openai_api_key\")");
        }

        if (Group is not null && !KeyPattern().IsMatch(Group))
        {
            throw new FlyteSharpException($"secret group '{Group}' of task environment '{environment}' is not valid",
                fix: "use letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. \"aws\")");
        }

        if (AsEnvVar is not null && !TaskEnvironment.IsVariableName(AsEnvVar))
        {
            throw new FlyteSharpException($"secret {DisplayName} of task environment '{environment}': '{AsEnvVar}' is not an environment variable name",
                fix: "use letters, digits and '_', not starting with a digit (e.g. \"OPENAI_API_KEY\")");
        }

        if (Mount is not null && (!Mount.StartsWith('/') || Mount.Split('/').Any(p => p is "." or "..") || Mount.Contains('\0') || Mount.Contains(':') || Mount.Contains(',')))
        {
            throw new FlyteSharpException($"secret {DisplayName} of task environment '{environment}': mount '{Mount}' is not an absolute directory",
                fix: "mount it at an absolute path without '..', ':' or ',' (e.g. \"/etc/flyte/secrets\")");
        }
    }

    /// <summary>The key as an environment variable name: upper case, other characters as '_'.</summary>
    internal static string DefaultVariable(string key)
    {
        var b = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            b.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return b.Length > 0 && char.IsAsciiDigit(b[0]) ? "_" + b : b.ToString();
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")]
    private static partial Regex KeyPattern();
}
