namespace FlyteSharp.Bundles;

/// <summary>
/// The one rule for which archive entry names a bundle may hold. <see cref="BundleExtractor"/> refuses an entry
/// whose name breaks it, and <see cref="BundleFiles"/> refuses the same names when a bundle is built, so a bundle
/// that every run would refuse is never made. The Python runner (<c>flytesharp_runner.py</c>, <c>_entry_parts</c>)
/// applies the same rule; the shared malicious-archive corpus in the tests keeps the two in step.
/// </summary>
internal static class BundleEntryName
{
    /// <summary>Why <paramref name="name"/> cannot be an entry of a bundle, or null when it can.</summary>
    /// <param name="name">An entry name as stored in the archive: POSIX separators, relative.</param>
    public static string? Problem(string name)
    {
        if (name.Length == 0)
        {
            return "empty name";
        }

        if (name.Contains('\0'))
        {
            return "NUL in the path";
        }

        if (name.Contains('\\'))
        {
            // Windows reads it as a separator, POSIX as part of a name: the same bundle would unpack differently.
            return "backslash in the path";
        }

        if (name[0] == '/' || (name.Length >= 2 && char.IsAsciiLetter(name[0]) && name[1] == ':'))
        {
            return "absolute path";
        }

        var components = 0;
        foreach (var part in name.Split('/'))
        {
            if (part == "..")
            {
                return "'..' in the path";
            }

            if (part is not ("" or "."))
            {
                components++;
            }
        }

        return components == 0 ? "path names the destination itself" : null;
    }

    /// <summary>The components of a name that <see cref="Problem"/> accepted: empty and <c>.</c> components dropped.</summary>
    public static string[] Parts(string name) => name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
}
