namespace FlyteSharp.Files;

/// <summary>The <see cref="IWalkFilter"/> of an <see cref="IIgnore"/>: the walker skips what its rules exclude.</summary>
internal sealed class IgnoreFilter(IIgnore ignore) : IWalkFilter
{
    /// <inheritdoc/>
    public IWalkFilter Enter(string directory, string relativePrefix, IReadOnlyList<DirectoryEntry> entries)
    {
        var inner = ignore.Enter(directory, relativePrefix, entries);
        return ReferenceEquals(inner, ignore) ? this : new IgnoreFilter(inner);
    }

    /// <inheritdoc/>
    public bool IsIgnored(string relativePath, bool isDirectory) => ignore.IsIgnored(relativePath, isDirectory);
}
