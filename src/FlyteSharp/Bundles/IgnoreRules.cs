using MAB.DotIgnore;

namespace FlyteSharp.Bundles;

/// <summary>
/// gitignore semantics over a stack of ignore files (one level per directory that has a
/// <c>.gitignore</c> or <c>.flyteignore</c>), built on MAB.DotIgnore's pattern matcher.
/// </summary>
/// <remarks>
/// MAB.DotIgnore's <see cref="IgnoreList"/> knows one file only and matches slash-free patterns
/// against every path segment (so <c>!src</c> would re-include <c>src/a.pyc</c>). We keep its
/// wildmatch (<see cref="IgnoreRule.IsMatch(string, bool)"/>) and do the rest as git does:
/// slash-free patterns match the basename; patterns with a leading or inner slash are anchored
/// to the directory of their file; the last matching rule wins, deeper files after shallower ones;
/// excluded directories are pruned by the caller, so nothing beneath them can be re-included.
/// </remarks>
internal sealed class IgnoreRules
{
    private readonly List<Level> _levels;

    private IgnoreRules(List<Level> levels) => _levels = levels;

    /// <summary>Rules that apply before any ignore file (lowest precedence, like git's core.excludesFile).</summary>
    public static IgnoreRules FromPatterns(IEnumerable<string> patterns) =>
        new([new Level("", Parse(patterns.Select((p, i) => (p, i + 1)), "(standard ignores)"))]);

    /// <summary>
    /// Adds the ignore files of a directory (given by its bundle-relative prefix, e.g. <c>src/pkg/</c>)
    /// as a new, higher-precedence level. Returns this instance when the directory has none.
    /// </summary>
    public IgnoreRules WithDirectory(string directory, string relativePrefix, IEnumerable<string> ignoreFileNames)
    {
        List<Rule>? rules = null;
        foreach (var name in ignoreFileNames)
        {
            var file = Path.Combine(directory, name);
            if (!File.Exists(file))
            {
                continue;
            }

            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new FlyteSharpException($"cannot read ignore file: {ex.Message}", file, fix: "make the file readable");
            }

            rules ??= [];
            rules.AddRange(Parse(lines.Select((l, i) => (l, i + 1)), file));
        }

        return rules is null ? this : new IgnoreRules([.. _levels, new Level(relativePrefix, rules)]);
    }

    /// <summary>True when the bundle-relative <paramref name="relativePath"/> is excluded.</summary>
    public bool IsIgnored(string relativePath, bool isDirectory)
    {
        var ignored = false;
        foreach (var level in _levels)
        {
            var local = relativePath[level.Prefix.Length..];
            var slash = local.LastIndexOf('/');
            var basename = slash < 0 ? local : local[(slash + 1)..];
            foreach (var rule in level.Rules)
            {
                if (rule.Matches(local, basename, isDirectory))
                {
                    ignored = !rule.Negated;
                }
            }
        }

        return ignored;
    }

    private static List<Rule> Parse(IEnumerable<(string Line, int Number)> lines, string source)
    {
        var rules = new List<Rule>();
        foreach (var (raw, number) in lines)
        {
            var line = TrimTrailingSpaces(raw.TrimEnd('\r'));
            if (line.Length == 0 || line[0] == '#' || line == "!" || line == "/" || line == "!/")
            {
                continue;
            }

            try
            {
                rules.Add(new Rule(new IgnoreRule(line, MatchFlags.PATHNAME, number)));
            }
            catch (ArgumentException ex)
            {
                throw new FlyteSharpException($"invalid ignore pattern '{line}': {ex.Message}", source, number,
                    "fix or remove the pattern (see https://git-scm.com/docs/gitignore)");
            }
        }

        return rules;
    }

    // git drops trailing spaces unless the last one is escaped with a backslash.
    private static string TrimTrailingSpaces(string line)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] == ' ' && !(end > 1 && line[end - 2] == '\\'))
        {
            end--;
        }

        return line[..end];
    }

    private static bool IsLiteral(string pattern) => pattern.Length > 0 && pattern.IndexOfAny(['*', '?', '[', '\\', '/']) < 0;

    private sealed record Level(string Prefix, List<Rule> Rules);

    private sealed class Rule(IgnoreRule rule)
    {
        private readonly bool _anchored =
            rule.PatternFlags.HasFlag(PatternFlags.ABSOLUTE_PATH) || rule.Pattern.Contains('/');

        // Fast paths for the common unanchored forms ("name", "*.ext"); everything else goes to wildmatch.
        private readonly string? _literal = IsLiteral(rule.Pattern) ? rule.Pattern : null;
        private readonly string? _suffix = rule.Pattern.StartsWith('*') && IsLiteral(rule.Pattern[1..]) ? rule.Pattern[1..] : null;
        private readonly bool _directoryOnly = rule.PatternFlags.HasFlag(PatternFlags.DIRECTORY);

        public bool Negated { get; } = rule.PatternFlags.HasFlag(PatternFlags.NEGATION);

        public bool Matches(string localPath, string basename, bool isDirectory)
        {
            if (!_anchored)
            {
                if (_directoryOnly && !isDirectory)
                {
                    return false;
                }

                if (_literal is not null)
                {
                    return string.Equals(basename, _literal, StringComparison.Ordinal);
                }

                if (_suffix is not null)
                {
                    return basename.EndsWith(_suffix, StringComparison.Ordinal);
                }

                return rule.IsMatch(basename, isDirectory);
            }

            // "/name" (leading slash, no other slash) only matches at the top of its level.
            if (!rule.Pattern.Contains('/') && localPath.Contains('/'))
            {
                return false;
            }

            return rule.IsMatch(localPath, isDirectory);
        }
    }
}
