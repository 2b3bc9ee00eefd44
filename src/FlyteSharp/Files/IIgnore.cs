namespace FlyteSharp.Files;

/// <summary>
/// A set of ignore rules over a file tree (flyte-sdk's <c>Ignore</c> shape): what the rule that decides a path says, and
/// the rules in force inside a directory. <see cref="GitIgnore"/>, <see cref="DockerIgnore"/> and
/// <see cref="StandardIgnore"/> are the variants; <see cref="IgnoreGroup"/> layers them by precedence.
/// </summary>
internal interface IIgnore
{
    /// <summary>The rule that decides <paramref name="relativePath"/> (the last one that matches), or null when none does.</summary>
    /// <param name="relativePath">POSIX path relative to the walk's root.</param>
    /// <param name="isDirectory">Whether the path is a directory (directory-only rules need it).</param>
    /// <remarks>Called for every entry of a tree, so implementations allocate nothing unless a rule needs a regex.</remarks>
    IgnoreRule? Winner(string relativePath, bool isDirectory);

    /// <summary>The rules in force inside a directory about to be read (its own ignore files added); this instance when unchanged.</summary>
    /// <param name="directory">The directory's full path.</param>
    /// <param name="relativePrefix">Its POSIX path relative to the walk's root, with a trailing <c>/</c> (empty for the root).</param>
    /// <param name="entries">Its entries, as read.</param>
    IIgnore Enter(string directory, string relativePrefix, IReadOnlyList<DirectoryEntry> entries);
}
