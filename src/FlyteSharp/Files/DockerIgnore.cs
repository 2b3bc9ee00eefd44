namespace FlyteSharp.Files;

/// <summary>
/// <c>.dockerignore</c> rules with Docker's semantics (moby/patternmatcher): patterns are relative to the
/// copied root, <c>*</c> and <c>?</c> stay within one path segment, <c>**</c> spans any number of
/// segments, a pattern that matches a directory excludes everything below it, <c>!</c> re-includes,
/// and the last matching rule wins.
/// </summary>
internal sealed class DockerIgnore : IIgnore
{
    private readonly List<IgnoreRule> _rules;
    private readonly IgnoreRuleSet _index;

    private DockerIgnore(List<IgnoreRule> rules)
    {
        _rules = rules;
        _index = new IgnoreRuleSet(rules);
    }

    /// <summary>An ignore set that excludes nothing.</summary>
    public static DockerIgnore Empty { get; } = new([]);

    /// <summary>Parses <c>.dockerignore</c> lines (comments and blank lines are skipped).</summary>
    /// <exception cref="FlyteSharpException">A pattern is invalid (names <paramref name="file"/> and the line when given).</exception>
    public static DockerIgnore Parse(IEnumerable<string> lines, string? file = null) =>
        new(IgnoreRule.ParseLines(lines, IgnoreDialect.Dockerignore, file));

    /// <summary>The rules of <paramref name="other"/> appended after these (later rules win).</summary>
    public DockerIgnore Then(DockerIgnore other) => new([.. _rules, .. other._rules]);

    /// <summary>True when <paramref name="relativePath"/> (POSIX, relative to the root) or one of its parent directories is excluded.</summary>
    public bool IsExcluded(string relativePath)
    {
        for (var r = _rules.Count - 1; r >= 0; r--)
        {
            if (_rules[r].MatchesOrParentMatches(relativePath))
            {
                return !_rules[r].Negated;
            }
        }

        return false;
    }

    /// <inheritdoc/>
    /// <remarks>Only the path itself: a walk never enters an excluded directory, so every parent was decided on the way down.</remarks>
    public IgnoreRule? Winner(string relativePath, bool isDirectory) => _index.LastMatch(relativePath, isDirectory);

    /// <inheritdoc/>
    /// <remarks>Patterns are anchored at the context's root, so nothing changes per directory.</remarks>
    public IIgnore Enter(string directory, string relativePrefix, IReadOnlyList<DirectoryEntry> entries) => this;
}
