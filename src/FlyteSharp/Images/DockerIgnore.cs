using System.Text;
using System.Text.RegularExpressions;

namespace FlyteSharp.Images;

/// <summary>
/// <c>.dockerignore</c> rules with Docker's semantics (moby/patternmatcher): patterns are relative to the
/// copied root, <c>*</c> and <c>?</c> stay within one path segment, <c>**</c> spans any number of
/// segments, a pattern that matches a directory excludes everything below it, <c>!</c> re-includes,
/// and the last matching rule wins.
/// </summary>
internal sealed class DockerIgnore
{
    /// <summary>What is never part of an image: VCS data, virtualenvs, caches, build output, credential files.</summary>
    public static readonly IReadOnlyList<string> StandardPatterns =
    [
        "**/.git", "**/.hg", "**/.svn", "**/.venv", "**/venv", "**/__pycache__", "**/*.pyc", "**/*.pyo",
        "**/.mypy_cache", "**/.pytest_cache", "**/.ruff_cache", "**/.tox", "**/.nox", "**/*.egg-info",
        "**/.idea", "**/.vscode", "**/.DS_Store", "**/node_modules", "**/bin", "**/obj",

        // Credentials never belong in an image layer (the same files code bundles leave out; see BundleFiles.CredentialIgnores).
        "**/.env", "**/.env.*", "**/*.pem", "**/*.key", "**/*.p12", "**/*.pfx", "**/id_rsa*", "**/id_dsa*", "**/id_ecdsa*",
        "**/id_ed25519*", "**/.netrc", "**/.npmrc", "**/.pypirc", "**/.git-credentials", "**/.pgpass", "**/.docker/config.json",
        "**/.aws", "**/.ssh", "**/.gnupg", "**/.kube",
    ];

    private readonly List<(RuleGroup Pattern, bool Exclude)> _rules;

    private DockerIgnore(List<(RuleGroup, bool)> rules) => _rules = rules;

    /// <summary>An ignore set that excludes nothing.</summary>
    public static DockerIgnore Empty { get; } = new([]);

    /// <summary>Parses <c>.dockerignore</c> lines (comments and blank lines are skipped).</summary>
    public static DockerIgnore Parse(IEnumerable<string> lines, string? file = null)
    {
        var rules = new List<(string Pattern, bool Exclude)>();
        var lineNo = 0;
        foreach (var raw in lines)
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var exclude = true;
            if (line.StartsWith('!'))
            {
                exclude = false;
                line = line[1..].Trim();
            }

            var pattern = Clean(line);
            if (pattern.Length == 0)
            {
                continue;
            }

            try
            {
                var compiled = Compile(pattern);
                _ = new Regex(compiled); // validate each pattern on its own, for a precise error
                rules.Add((compiled, exclude));
            }
            catch (ArgumentException ex)
            {
                throw new FlyteSharpException($"invalid .dockerignore pattern '{raw.Trim()}': {ex.Message}", file, file is null ? null : lineNo,
                    "fix the pattern (see https://docs.docker.com/build/concepts/context/#dockerignore-files)");
            }
        }

        // Consecutive rules of the same kind are one group: same outcome (last match wins only matters between
        // kinds). Within a group "**/name" and "**/*.ext" (all the standard patterns) are set lookups on the basename;
        // the rest is one alternation, one regex evaluation instead of many per path.
        var merged = new List<(RuleGroup, bool)>();
        for (var i = 0; i < rules.Count;)
        {
            var j = i;
            while (j < rules.Count && rules[j].Exclude == rules[i].Exclude)
            {
                j++;
            }

            merged.Add((RuleGroup.Create(rules.Skip(i).Take(j - i).Select(r => r.Pattern)), rules[i].Exclude));
            i = j;
        }

        return new DockerIgnore(merged);
    }

    /// <summary>The rules of <paramref name="other"/> appended after these (later rules win).</summary>
    public DockerIgnore Then(DockerIgnore other) => new([.. _rules, .. other._rules]);

    /// <summary>True when <paramref name="relativePath"/> (POSIX, relative to the root) is excluded.</summary>
    public bool IsExcluded(string relativePath) => IsExcluded(relativePath, checkParents: true);

    /// <summary>
    /// Like <see cref="IsExcluded(string)"/>; a walk that never enters excluded directories passes
    /// <paramref name="checkParents"/> false, because every parent was already checked on the way down.
    /// </summary>
    public bool IsExcluded(string relativePath, bool checkParents)
    {
        var excluded = false;
        foreach (var (pattern, exclude) in _rules)
        {
            if (excluded == exclude)
            {
                continue; // this rule cannot change the outcome
            }

            if (checkParents ? MatchesOrParentMatches(pattern, relativePath) : pattern.IsMatch(relativePath))
            {
                excluded = exclude;
            }
        }

        return excluded;
    }

    private static bool MatchesOrParentMatches(RuleGroup pattern, string path)
    {
        if (pattern.IsMatch(path))
        {
            return true;
        }

        for (var i = path.LastIndexOf('/'); i > 0; i = path.LastIndexOf('/', i - 1))
        {
            if (pattern.IsMatch(path[..i]))
            {
                return true;
            }
        }

        return false;
    }

    // Like Go's filepath.Clean for a relative pattern: no leading "/", no "." segments, ".." folded.
    private static string Clean(string pattern)
    {
        var parts = new List<string>();
        foreach (var part in pattern.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == ".." && parts.Count > 0 && parts[^1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
                continue;
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }

    private static string Compile(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                    {
                        i++;
                        sb.Append("(.*/)?"); // "**/" : zero or more whole directories
                    }
                    else
                    {
                        sb.Append(".*");
                    }

                    break;
                case '*':
                    sb.Append("[^/]*");
                    break;
                case '?':
                    sb.Append("[^/]");
                    break;
                case '[':
                    var end = pattern.IndexOf(']', i + 1);
                    if (end < 0)
                    {
                        throw new ArgumentException("unterminated character class");
                    }

                    var cls = pattern[(i + 1)..end];
                    sb.Append('[').Append(cls.StartsWith('^') || cls.StartsWith('!') ? "^" + Regex.Escape(cls[1..]) : Regex.Escape(cls)).Append(']');
                    i = end;
                    break;
                case '\\' when i + 1 < pattern.Length:
                    sb.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return sb.Append('$').ToString();
    }

    /// <summary>Compiled patterns of one group (see <see cref="Compile"/> for the regex forms recognised here).</summary>
    private sealed class RuleGroup
    {
        private const string AnyDirectories = "^(.*/)?";
        private readonly HashSet<string> _basenames = new(StringComparer.Ordinal);
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _basenameLookup;
        private readonly List<string> _suffixes = [];
        private readonly Regex? _rest;

        private RuleGroup(IEnumerable<string> compiled)
        {
            _basenameLookup = _basenames.GetAlternateLookup<ReadOnlySpan<char>>();
            var rest = new List<string>();
            foreach (var pattern in compiled)
            {
                // "^(.*/)?LITERAL$" is "the basename is LITERAL"; "^(.*/)?[^/]*LITERAL$" is "the basename ends with LITERAL".
                if (pattern.StartsWith(AnyDirectories, StringComparison.Ordinal) && pattern.EndsWith('$')
                    && Literal(pattern[AnyDirectories.Length..^1]) is { } tail)
                {
                    var suffix = tail.StartsWith("[^/]*", StringComparison.Ordinal) ? tail[5..] : null;
                    if (suffix is { Length: > 0 } && !suffix.Contains('/') && !suffix.Contains("[^/]*", StringComparison.Ordinal))
                    {
                        _suffixes.Add(suffix);
                        continue;
                    }

                    if (!tail.Contains('/') && !tail.Contains("[^/]*", StringComparison.Ordinal))
                    {
                        _basenames.Add(tail);
                        continue;
                    }
                }

                rest.Add(pattern);
            }

            _rest = rest.Count == 0 ? null : new Regex(string.Join('|', rest.Select(r => "(?:" + r + ")")), RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }

        public static RuleGroup Create(IEnumerable<string> compiled) => new(compiled);

        public bool IsMatch(string path)
        {
            var basename = path.AsSpan(path.LastIndexOf('/') + 1);
            if (_basenames.Count > 0 && _basenameLookup.Contains(basename))
            {
                return true;
            }

            foreach (var suffix in _suffixes)
            {
                if (basename.EndsWith(suffix, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return _rest is not null && _rest.IsMatch(path);
        }

        // The unescaped text of a regex fragment made only of escaped literals (and "[^/]*" kept verbatim), or null.
        private static string? Literal(string fragment)
        {
            var text = new StringBuilder();
            for (var i = 0; i < fragment.Length; i++)
            {
                if (fragment.AsSpan(i).StartsWith("[^/]*", StringComparison.Ordinal))
                {
                    text.Append("[^/]*");
                    i += 4;
                    continue;
                }

                var c = fragment[i];
                if (c == '\\' && i + 1 < fragment.Length)
                {
                    text.Append(fragment[++i]);
                }
                else if (char.IsLetterOrDigit(c) || c is '_' or '-' or '/' or ',' or '@' or '%' or '=' or ':' or '~')
                {
                    text.Append(c);
                }
                else
                {
                    return null;
                }
            }

            return text.ToString();
        }
    }
}
