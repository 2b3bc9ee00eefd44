namespace FlyteSharp.Files;

/// <summary>
/// gitignore semantics over the ignore files a walk meets (one level per directory that has one of
/// <see cref="FileNames"/>): slash-free patterns match the basename at any depth; patterns with a leading or inner
/// slash are anchored to the directory of their file; the last matching rule wins, deeper files after shallower ones;
/// excluded directories are pruned by the walker, so nothing beneath them can be re-included (as in git).
/// </summary>
internal sealed class GitIgnore : IIgnore
{
    private readonly List<Level> _levels;

    private GitIgnore(IReadOnlyList<string> fileNames, List<Level> levels)
    {
        FileNames = fileNames;
        _levels = levels;
    }

    /// <summary>The ignore files read in every directory, lower precedence first (e.g. <c>.gitignore</c>, <c>.flyteignore</c>).</summary>
    public IReadOnlyList<string> FileNames { get; }

    /// <summary>Rules read from <paramref name="fileNames"/> in each directory a walk enters; none until then.</summary>
    public static GitIgnore ForFiles(params IReadOnlyList<string> fileNames) => new(fileNames, []);

    /// <summary>One ignore file's lines, applying at the root (for rules that come from somewhere other than the tree).</summary>
    public static GitIgnore FromLines(IEnumerable<string> lines, string? source = null) =>
        new([], [new Level(0, new IgnoreRuleSet(IgnoreRule.ParseLines(lines, IgnoreDialect.Gitignore, source)))]);

    /// <inheritdoc/>
    public IgnoreRule? Winner(string relativePath, bool isDirectory)
    {
        // The last matching rule wins, deeper levels after shallower ones: search from the end, stop at the first match.
        for (var l = _levels.Count - 1; l >= 0; l--)
        {
            var level = _levels[l];
            if (level.PrefixLength > 0 && relativePath.Length <= level.PrefixLength)
            {
                continue;
            }

            if (level.Rules.LastMatch(relativePath.AsSpan(level.PrefixLength), isDirectory) is { } rule)
            {
                return rule;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public IIgnore Enter(string directory, string relativePrefix, IReadOnlyList<DirectoryEntry> entries)
    {
        List<IgnoreRule>? rules = null;
        foreach (var name in FileNames)
        {
            if (!entries.Any(e => e.Name == name))
            {
                continue;
            }

            var file = Path.Combine(directory, name);
            if (!File.Exists(file))
            {
                continue; // a directory or a dangling link by that name holds no rules
            }

            (rules ??= []).AddRange(IgnoreRule.ReadFile(file, IgnoreDialect.Gitignore));
        }

        return rules is null ? this : new GitIgnore(FileNames, [.. _levels, new Level(relativePrefix.Length, new IgnoreRuleSet(rules))]);
    }

    private sealed record Level(int PrefixLength, IgnoreRuleSet Rules);
}
