namespace FlyteSharp.Files;

/// <summary>
/// Ignore sets layered by precedence, lowest first (standard ignores, then the tree's ignore files, then rules given in
/// code): the highest member with a matching rule decides, so a <c>!pattern</c> in a later member re-includes what an
/// earlier one excludes, exactly as if their rules were one list.
/// </summary>
internal sealed class IgnoreGroup(params IReadOnlyList<IIgnore> members) : IIgnore
{
    /// <inheritdoc/>
    public IgnoreRule? Winner(string relativePath, bool isDirectory)
    {
        for (var m = members.Count - 1; m >= 0; m--)
        {
            if (members[m].Winner(relativePath, isDirectory) is { } rule)
            {
                return rule;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public IIgnore Enter(string directory, string relativePrefix, IReadOnlyList<DirectoryEntry> entries)
    {
        IIgnore[]? entered = null;
        for (var m = 0; m < members.Count; m++)
        {
            var inner = members[m].Enter(directory, relativePrefix, entries);
            if (!ReferenceEquals(inner, members[m]))
            {
                entered ??= [.. members];
                entered[m] = inner;
            }
        }

        return entered is null ? this : new IgnoreGroup(entered);
    }
}
