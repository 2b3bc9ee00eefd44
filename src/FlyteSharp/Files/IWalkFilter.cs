namespace FlyteSharp.Files;

/// <summary>The ignore rules a <see cref="FileWalker"/> applies (gitignore stacks for bundles, a dockerignore for image contexts).</summary>
internal interface IWalkFilter
{
    /// <summary>The rules in force inside a directory about to be read (e.g. with its own ignore files added); this instance when unchanged.</summary>
    /// <param name="directory">The directory's full path.</param>
    /// <param name="relativePrefix">Its POSIX path relative to the walk's root, with a trailing <c>/</c> (empty for the root).</param>
    /// <param name="entries">Its entries, as read.</param>
    IWalkFilter Enter(string directory, string relativePrefix, IReadOnlyList<DirectoryEntry> entries);

    /// <summary>True when the entry at <paramref name="relativePath"/> is excluded (an excluded directory is not entered).</summary>
    bool IsIgnored(string relativePath, bool isDirectory);
}
