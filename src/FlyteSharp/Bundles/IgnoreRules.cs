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
    /// <param name="patterns">The patterns, in order.</param>
    /// <param name="credentials">Those of <paramref name="patterns"/> that name credential files: re-including one is reported by <see cref="ReincludedCredential"/>.</param>
    public static IgnoreRules FromPatterns(IEnumerable<string> patterns, IReadOnlyCollection<string>? credentials = null)
    {
        var rules = Parse(patterns.Select((p, i) => (p, i + 1)), StandardSource);
        foreach (var rule in rules)
        {
            rule.Credential = credentials?.Contains(rule.Text) == true;
        }

        return new([new Level("", rules)]);
    }

    /// <summary>The source name of the rules given to <see cref="FromPatterns"/>.</summary>
    public const string StandardSource = "(standard ignores)";

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
    /// <remarks>Called for every entry of the tree, so it allocates nothing unless a rule needs wildmatch.</remarks>
    public bool IsIgnored(string relativePath, bool isDirectory) => Match(relativePath, isDirectory) == IgnoreVerdict.Ignored;

    /// <summary>What the last matching rule says about the bundle-relative <paramref name="relativePath"/>.</summary>
    /// <remarks>Called for every entry of the tree, so it allocates nothing unless a rule needs wildmatch.</remarks>
    public IgnoreVerdict Match(string relativePath, bool isDirectory) =>
        Winner(relativePath, isDirectory) is { } rule ? rule.Negated ? IgnoreVerdict.Reincluded : IgnoreVerdict.Ignored : IgnoreVerdict.None;

    /// <summary>
    /// When <paramref name="relativePath"/> is kept only because a <c>!</c> rule re-includes what a standard credential
    /// pattern (<see cref="FromPatterns"/>) excludes: a description of both rules for a warning; otherwise null.
    /// </summary>
    public string? ReincludedCredential(string relativePath, bool isDirectory)
    {
        if (Winner(relativePath, isDirectory) is not { Negated: true } winner)
        {
            return null;
        }

        var basename = relativePath.AsSpan(relativePath.LastIndexOf('/') + 1);
        foreach (var level in _levels)
        {
            foreach (var rule in level.Rules)
            {
                if (rule.Credential && rule.Matches(relativePath, level.Prefix.Length, basename, isDirectory))
                {
                    return $"standard ignore '{rule.Text}' is overridden by '{winner.Text}' ({winner.Source}:{winner.Line})";
                }
            }
        }

        return null;
    }

    private Rule? Winner(string relativePath, bool isDirectory)
    {
        var basename = relativePath.AsSpan(relativePath.LastIndexOf('/') + 1);

        // The last matching rule wins, deeper levels after shallower ones: search from the end, stop at the first match.
        for (var l = _levels.Count - 1; l >= 0; l--)
        {
            var level = _levels[l];
            for (var r = level.Rules.Count - 1; r >= 0; r--)
            {
                var rule = level.Rules[r];
                if (rule.Matches(relativePath, level.Prefix.Length, basename, isDirectory))
                {
                    return rule;
                }
            }
        }

        return null;
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
                var rule = Rule.Parse(line, number);
                rule.Text = line;
                rule.Source = source;
                rule.Line = number;
                rules.Add(rule);
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

    private static bool IsDeepLiteral(string pattern) =>
        pattern.StartsWith("**/", StringComparison.Ordinal) && pattern.Length > 3 && pattern.IndexOfAny(['*', '?', '[', '\\'], 3) < 0 && !pattern.EndsWith('/');

    private static bool IsLiteral(string pattern) => pattern.Length > 0 && pattern.IndexOfAny(['*', '?', '[', '\\', '/']) < 0;

    private sealed record Level(string Prefix, List<Rule> Rules);

    private sealed class Rule
    {
        // Null for the literal fast paths: MAB.DotIgnore builds a Regex per rule (and compiles its own on first use),
        // which cost a CLI warm rebuild more than the whole tree walk; only patterns that need wildmatch pay for it.
        private readonly IgnoreRule? _wildmatch;
        private readonly bool _anchored;
        private readonly bool _patternHasSlash;
        private readonly bool _directoryOnly;

        // Fast paths for the common unanchored forms ("name", "*.ext"); everything else goes to wildmatch.
        private readonly string? _literal;
        private readonly string? _suffix;
        private readonly string? _prefix;

        // "**/a/b": a literal path that may start in any directory of its level.
        private readonly string? _deepPath;

        private Rule(IgnoreRule? wildmatch, string pattern, bool negated, bool absolute, bool directoryOnly)
        {
            _wildmatch = wildmatch;
            Negated = negated;
            _directoryOnly = directoryOnly;
            _patternHasSlash = pattern.Contains('/');
            _anchored = absolute || _patternHasSlash;
            _literal = !_anchored && IsLiteral(pattern) ? pattern : null;
            _suffix = !_anchored && pattern.StartsWith('*') && IsLiteral(pattern[1..]) ? pattern[1..] : null;
            _prefix = !_anchored && pattern.EndsWith('*') && IsLiteral(pattern[..^1]) ? pattern[..^1] : null;
            _deepPath = !absolute && IsDeepLiteral(pattern) ? pattern[3..] : null;
        }

        public bool Negated { get; }

        /// <summary>The rule as written (for messages).</summary>
        public string Text { get; set; } = "";

        /// <summary>The ignore file the rule comes from, or <see cref="StandardSource"/>.</summary>
        public string Source { get; set; } = "";

        public int Line { get; set; }

        /// <summary>A standard rule that keeps credentials out of bundles.</summary>
        public bool Credential { get; set; }

        /// <summary>Splits off <c>!</c>, a leading <c>/</c> and a trailing <c>/</c> as MAB.DotIgnore's <see cref="IgnoreRule"/> does.</summary>
        /// <exception cref="ArgumentException">The pattern is invalid.</exception>
        public static Rule Parse(string line, int number)
        {
            var (pattern, negated, absolute, directoryOnly) = (line, false, false, false);
            if (pattern.StartsWith('!'))
            {
                (pattern, negated) = (pattern[1..], true);
            }

            if (pattern.StartsWith('/'))
            {
                (pattern, absolute) = (pattern[1..], true);
            }

            if (pattern.EndsWith('/'))
            {
                (pattern, directoryOnly) = (pattern[..^1], true);
            }

            if (!absolute && (IsLiteral(pattern) || pattern.StartsWith('*') && IsLiteral(pattern[1..]) || pattern.EndsWith('*') && IsLiteral(pattern[..^1]) || IsDeepLiteral(pattern)))
            {
                return new Rule(null, pattern, negated, absolute, directoryOnly);
            }

            var rule = new IgnoreRule(line, MatchFlags.PATHNAME, number);
            return new Rule(rule, rule.Pattern, rule.PatternFlags.HasFlag(PatternFlags.NEGATION),
                rule.PatternFlags.HasFlag(PatternFlags.ABSOLUTE_PATH), rule.PatternFlags.HasFlag(PatternFlags.DIRECTORY));
        }

        public bool Matches(string relativePath, int levelPrefixLength, ReadOnlySpan<char> basename, bool isDirectory)
        {
            if (!_anchored)
            {
                if (_directoryOnly && !isDirectory)
                {
                    return false;
                }

                if (_literal is not null)
                {
                    return basename.SequenceEqual(_literal);
                }

                if (_suffix is not null)
                {
                    return basename.EndsWith(_suffix, StringComparison.Ordinal);
                }

                if (_prefix is not null)
                {
                    return basename.StartsWith(_prefix, StringComparison.Ordinal);
                }

                return _wildmatch!.IsMatch(basename.ToString(), isDirectory);
            }

            var local = relativePath.AsSpan(levelPrefixLength);
            if (_deepPath is not null)
            {
                if (_directoryOnly && !isDirectory)
                {
                    return false;
                }

                return local.SequenceEqual(_deepPath) ||
                       local.EndsWith(_deepPath, StringComparison.Ordinal) && local[local.Length - _deepPath.Length - 1] == '/';
            }

            // "/name" (leading slash, no other slash) only matches at the top of its level.
            if (!_patternHasSlash && local.Contains('/'))
            {
                return false;
            }

            return _wildmatch!.IsMatch(levelPrefixLength == 0 ? relativePath : local.ToString(), isDirectory);
        }
    }
}
