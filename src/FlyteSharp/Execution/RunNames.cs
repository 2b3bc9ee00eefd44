using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace FlyteSharp.Execution;

/// <summary>Run names: <c>{task}-{yyyyMMdd-HHmmss}-{4 random hex}</c>, lower-case and URL-safe.</summary>
internal static partial class RunNames
{
    public static string Generate(string taskName, DateTimeOffset at)
    {
        var slug = new StringBuilder();
        foreach (var c in taskName.ToLowerInvariant())
        {
            slug.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        var text = Collapse().Replace(slug.ToString(), "-").Trim('-');
        if (text.Length > 40)
        {
            text = text[^40..].Trim('-');
        }

        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));
        return $"{(text.Length == 0 ? "run" : text)}-{at.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{suffix}";
    }

    public static string Validate(string name) => Valid().IsMatch(name)
        ? name
        : throw new FlyteSharpException($"run name '{name}' is not valid",
            fix: "use lower-case letters, digits, '-', '_' and '.', starting with a letter or digit (at most 100 characters)");

    [GeneratedRegex("-{2,}")]
    private static partial Regex Collapse();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,99}$")]
    private static partial Regex Valid();
}
