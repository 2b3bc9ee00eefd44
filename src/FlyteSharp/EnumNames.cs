namespace FlyteSharp;

/// <summary>
/// The stable names of FlyteSharp's closed sets where they are written down (config files, environment variables, the run
/// store): each member's name in lower case (<c>local</c>, <c>kubernetes</c>, <c>podman</c>). JSON uses the same names
/// through <see cref="JsonConvention"/>.
/// </summary>
internal static class EnumNames
{
    /// <summary>The written name of <paramref name="value"/>.</summary>
    public static string Name<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>The member written as <paramref name="name"/> (exactly, lower case), or false.</summary>
    public static bool TryParse<T>(string name, out T value)
        where T : struct, Enum
    {
        foreach (var member in Enum.GetValues<T>())
        {
            if (string.Equals(Name(member), name, StringComparison.Ordinal))
            {
                value = member;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>The allowed names for messages: <c>local, container or kubernetes</c>.</summary>
    public static string Allowed<T>()
        where T : struct, Enum
    {
        var names = Enum.GetValues<T>().Select(Name).ToList();
        return names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];
    }
}
