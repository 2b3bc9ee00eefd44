using System.Text.RegularExpressions;
using FlyteSharp.Images;

namespace FlyteSharp.Tasks;

/// <summary>
/// A named place tasks run in: one image, one set of resources, environment variables and secrets (the seed's
/// <c>flyte.TaskEnvironment(name=…, image=…, resources=…, env_vars=…, secrets=…)</c>). Define environments as static
/// fields or properties so tools such as <c>flytesharp images</c> can find them.
/// </summary>
public sealed partial class TaskEnvironment
{
    /// <summary>Creates an environment.</summary>
    /// <param name="name">Lower-case name, e.g. <c>etl</c>; part of task names and image lookups.</param>
    /// <param name="image">The image every task of this environment runs in.</param>
    /// <param name="resources">Resources per task container; none by default.</param>
    /// <param name="envVars">
    /// Environment variables every action of this environment gets (local process, container <c>--env</c>, Pod env).
    /// They are recorded with each action and are not part of the image tag. Never put credentials here: use <paramref name="secrets"/>.
    /// </param>
    /// <param name="secrets">Secrets every action of this environment gets, resolved when it starts (see <see cref="Secret"/>).</param>
    /// <param name="reuse">Keep containers warm between actions (see <see cref="ReusePolicy"/>); null starts one per action.</param>
    public TaskEnvironment(string name, Image image, Resources? resources = null, IReadOnlyDictionary<string, string>? envVars = null,
        IReadOnlyList<Secret>? secrets = null, ReusePolicy? reuse = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (string.IsNullOrEmpty(name) || !ValidName().IsMatch(name))
        {
            throw new FlyteSharpException($"task environment name '{name}' is not valid",
                fix: "use lower-case letters, digits, '_' and '-', starting with a letter (e.g. \"etl\")");
        }

        Name = name;
        Image = image;
        Resources = resources ?? new Resources();
        EnvVars = ValidateEnvVars(name, envVars);
        Secrets = ValidateSecrets(name, secrets ?? [], EnvVars);
        Reuse = reuse;
    }

    /// <summary>The environment's name.</summary>
    public string Name { get; }

    /// <summary>The image tasks of this environment run in.</summary>
    public Image Image { get; }

    /// <summary>Resources each task container gets.</summary>
    public Resources Resources { get; }

    /// <summary>Environment variables every action of this environment gets, sorted by name.</summary>
    public IReadOnlyDictionary<string, string> EnvVars { get; }

    /// <summary>Secrets every action of this environment gets.</summary>
    public IReadOnlyList<Secret> Secrets { get; }

    /// <summary>How containers are reused between this environment's actions, or null for one container per action.</summary>
    public ReusePolicy? Reuse { get; }

    /// <inheritdoc/>
    public override string ToString() => $"TaskEnvironment({Name})";

    /// <summary>True for a POSIX environment variable name (letters, digits, '_', not starting with a digit).</summary>
    internal static bool IsVariableName(string name) => VariableName().IsMatch(name);

    private static SortedDictionary<string, string> ValidateEnvVars(string environment, IReadOnlyDictionary<string, string>? envVars)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in envVars ?? new Dictionary<string, string>())
        {
            if (key is null || !IsVariableName(key))
            {
                throw new FlyteSharpException($"environment variable name '{key}' of task environment '{environment}' is not valid",
                    fix: "use letters, digits and '_', not starting with a digit (e.g. \"LOG_LEVEL\")");
            }

            if (key.StartsWith("FLYTESHARP_", StringComparison.Ordinal) || ReservedVariables.Contains(key))
            {
                throw new FlyteSharpException($"environment variable {key} of task environment '{environment}' is reserved: FlyteSharp sets it for the runner",
                    fix: "choose another name");
            }

            if (value is null || value.Contains('\0'))
            {
                throw new FlyteSharpException($"environment variable {key} of task environment '{environment}' has a null value or a NUL character",
                    fix: "give it a plain string value");
            }

            result[key] = value;
        }

        return result;
    }

    private static Secret[] ValidateSecrets(string environment, IReadOnlyList<Secret> secrets, IReadOnlyDictionary<string, string> envVars)
    {
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var secret in secrets)
        {
            if (secret is null)
            {
                throw new FlyteSharpException($"task environment '{environment}' has a null secret", fix: "remove it from the secrets list");
            }

            secret.Validate(environment);
            var target = secret.EnvironmentVariable ?? secret.FilePath!;
            if (!targets.Add(target))
            {
                throw new FlyteSharpException($"two secrets of task environment '{environment}' are delivered to the same place ({target})",
                    fix: "give each secret its own AsEnvVar or Mount");
            }

            if (secret.EnvironmentVariable is { } variable && (envVars.ContainsKey(variable) || variable.StartsWith("FLYTESHARP_", StringComparison.Ordinal) || ReservedVariables.Contains(variable)))
            {
                throw new FlyteSharpException($"secret {secret.DisplayName} of task environment '{environment}' would be delivered as {variable}, which is {(envVars.ContainsKey(variable) ? "also one of its envVars" : "reserved")}",
                    fix: "set AsEnvVar to another name");
            }
        }

        return secrets.ToArray();
    }

    private static readonly HashSet<string> ReservedVariables = new(StringComparer.Ordinal) { "PYTHONPATH", "PYTHONHOME", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING" };

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableName();

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,62}$")]
    private static partial Regex ValidName();
}
