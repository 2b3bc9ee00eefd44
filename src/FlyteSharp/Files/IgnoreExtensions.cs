namespace FlyteSharp.Files;

/// <summary>Verdicts derived from <see cref="IIgnore.Winner"/>.</summary>
internal static class IgnoreExtensions
{
    /// <summary>What the deciding rule says about <paramref name="relativePath"/>.</summary>
    public static IgnoreVerdict Match(this IIgnore ignore, string relativePath, bool isDirectory) =>
        ignore.Winner(relativePath, isDirectory) switch
        {
            null => IgnoreVerdict.None,
            { Negated: true } => IgnoreVerdict.Reincluded,
            _ => IgnoreVerdict.Ignored,
        };

    /// <summary>True when <paramref name="relativePath"/> is excluded.</summary>
    public static bool IsIgnored(this IIgnore ignore, string relativePath, bool isDirectory) =>
        ignore.Winner(relativePath, isDirectory) is { Negated: false };
}
