using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Reuse;

/// <summary>
/// What must be equal for two runs to share a replica, as one digest. Each value is written with its length first, so two
/// different lists of values never make the same text. Every kind of replica starts from <see cref="For"/>: the
/// environment and image it was created with, except the code (which a reload changes).
/// </summary>
internal sealed class ReplicaKey
{
    private readonly StringBuilder _text = new();

    /// <summary>A key over <paramref name="kind"/> and the environment's name, image, import paths, resources, policy and variables.</summary>
    /// <param name="kind">What runs the replica (a container runtime, a Pod program's kind).</param>
    /// <param name="environment">The task environment.</param>
    /// <param name="image">Its image.</param>
    public static ReplicaKey For(string kind, TaskEnvironment environment, ContainerImage image)
    {
        var key = new ReplicaKey()
            .Add(kind)
            .Add(environment.Name)
            .Add(image.ToString())
            .Add(string.Join("\0", image.ImportPaths))
            .Add(environment.Resources.ToString())
            .Add(environment.Reuse!.ToString());
        foreach (var (name, value) in environment.EnvVars)
        {
            key.Add(name).Add(value);
        }

        return key;
    }

    /// <summary>Adds one value (null is written as empty).</summary>
    public ReplicaKey Add(string? value)
    {
        _text.Append((value ?? "").Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append('\n');
        return this;
    }

    /// <summary>The key: the SHA-256 of everything added, in hex.</summary>
    public string Digest() => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(_text.ToString())));
}
