using System.Text.RegularExpressions;

namespace FlyteSharp.Images;

/// <summary>Checks registry hosts, repository names and image references against the OCI distribution grammar.</summary>
internal static partial class OciReference
{
    /// <summary>True for <c>host[:port]</c> optionally followed by <c>/path</c> components.</summary>
    public static bool IsValidRegistry(string registry) => Registry().IsMatch(registry);

    /// <summary>True for a repository name: lower-case path components separated by <c>/</c>.</summary>
    public static bool IsValidRepository(string name) => Repository().IsMatch(name) && name.Length <= 255;

    /// <summary>True for a full image reference such as <c>python:3.12-slim</c> or <c>localhost:5000/a/b@sha256:…</c>.</summary>
    public static bool IsValidImage(string reference) => Image().IsMatch(reference);

    /// <summary>Splits <c>host[:port]/path</c> into the host and the path prefix (empty when none).</summary>
    public static (string Host, string Prefix) SplitRegistry(string registry)
    {
        var slash = registry.IndexOf('/');
        return slash < 0 ? (registry, "") : (registry[..slash], registry[(slash + 1)..]);
    }

    private const string Component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private const string Host = @"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?";

    [GeneratedRegex("^" + Host + "(?:/" + Component + ")*$")]
    private static partial Regex Registry();

    [GeneratedRegex("^" + Component + "(?:/" + Component + ")*$")]
    private static partial Regex Repository();

    [GeneratedRegex("^(?:" + Host + "/)?" + Component + "(?:/" + Component + @")*(?::[\w][\w.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,})?$")]
    private static partial Regex Image();
}
