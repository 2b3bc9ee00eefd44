namespace FlyteSharp.Files;

/// <summary>
/// One line of an ignore file, parsed in its <see cref="IgnoreDialect"/>: the one parser behind <see cref="GitIgnore"/>,
/// <see cref="DockerIgnore"/> and <see cref="StandardIgnore"/>, so bundles and image contexts read patterns the same way
/// where the two syntaxes agree and differ only where git and Docker do.
/// </summary>
internal sealed class IgnoreRule
{
    private readonly IgnoreGlob _glob;

    // A slash-free gitignore pattern (or "**/name" in either dialect) is tested against the basename at any depth.
    private readonly bool _basenameOnly;

    // "**/a/b" with a literal tail: the path equals the tail or ends with "/" + tail (no regex).
    private readonly string? _deepTail;

    private IgnoreRule(string text, string? source, int? line, bool negated, bool directoryOnly, bool basenameOnly, string? deepTail, IgnoreGlob glob)
    {
        Text = text;
        Source = source;
        Line = line;
        Negated = negated;
        DirectoryOnly = directoryOnly;
        _basenameOnly = basenameOnly;
        _deepTail = deepTail;
        _glob = glob;
    }

    /// <summary>The rule as written (for messages).</summary>
    public string Text { get; }

    /// <summary>The ignore file the rule comes from, or a label such as <c>(standard ignores)</c>; null when unnamed.</summary>
    public string? Source { get; }

    /// <summary>The rule's 1-based line in <see cref="Source"/>, when it has one.</summary>
    public int? Line { get; }

    /// <summary>A <c>!</c> rule: it re-includes what an earlier rule excludes.</summary>
    public bool Negated { get; }

    /// <summary>A gitignore pattern with a trailing <c>/</c>: it matches directories only.</summary>
    public bool DirectoryOnly { get; }

    /// <summary>The one basename this rule can match (a slash-free literal pattern, or <c>**/name</c>), or null.</summary>
    internal string? BasenameLiteral => _basenameOnly ? _glob.Literal : null;

    /// <summary>The literal a matching basename must end with (<c>*.pyc</c>), or null.</summary>
    internal string? BasenameSuffix => _basenameOnly ? _glob.Suffix : null;

    /// <summary>The literal a matching basename must start with (<c>.env.*</c>), or null.</summary>
    internal string? BasenamePrefix => _basenameOnly ? _glob.Prefix : null;

    /// <summary>Where the rule was written, <c>file:line</c>, for messages.</summary>
    public string Location => Line is { } n ? $"{Source}:{n}" : Source ?? "";

    /// <summary>Parses the lines of one ignore file; blank lines and comments yield no rule.</summary>
    /// <param name="lines">The lines, in order (line numbers count from 1).</param>
    /// <param name="dialect">How to read them.</param>
    /// <param name="source">The file (or label) named in errors and messages; null for unnamed rules.</param>
    /// <param name="numbered">Whether errors name a line (false for rules given in code without a file).</param>
    /// <exception cref="FlyteSharpException">A pattern is invalid (an unterminated character class): names the file and line.</exception>
    public static List<IgnoreRule> ParseLines(IEnumerable<string> lines, IgnoreDialect dialect, string? source, bool numbered = true)
    {
        var rules = new List<IgnoreRule>();
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            if (Parse(raw, dialect, source, numbered ? number : null) is { } rule)
            {
                rules.Add(rule);
            }
        }

        return rules;
    }

    /// <summary>Reads and parses an ignore file.</summary>
    /// <exception cref="FlyteSharpException">The file cannot be read, or a pattern is invalid.</exception>
    public static List<IgnoreRule> ReadFile(string path, IgnoreDialect dialect)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot read ignore file: {ex.Message}", path, fix: "make the file readable");
        }

        return ParseLines(lines, dialect, path);
    }

    /// <summary>Parses one line; null for a blank line, a comment or a pattern that selects nothing.</summary>
    /// <exception cref="FlyteSharpException">The pattern is invalid.</exception>
    public static IgnoreRule? Parse(string raw, IgnoreDialect dialect, string? source, int? line)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return dialect == IgnoreDialect.Gitignore ? ParseGitignore(raw, source, line) : ParseDockerignore(raw, source, line);
    }

    /// <summary>
    /// True when the rule matches <paramref name="local"/>, the path relative to the directory its rules apply to
    /// (the ignore file's directory for gitignore, the context root for dockerignore).
    /// </summary>
    public bool Matches(ReadOnlySpan<char> local, bool isDirectory) => Matches(local, local.LastIndexOf('/') + 1, isDirectory);

    // basenameStart: where the last segment of local starts (computed once per path, not once per rule).
    internal bool Matches(ReadOnlySpan<char> local, int basenameStart, bool isDirectory)
    {
        if (DirectoryOnly && !isDirectory)
        {
            return false;
        }

        if (_basenameOnly)
        {
            return _glob.IsMatch(local[basenameStart..]);
        }

        if (_deepTail is not null)
        {
            return local.SequenceEqual(_deepTail) ||
                   local.Length > _deepTail.Length && local.EndsWith(_deepTail, StringComparison.Ordinal) && local[local.Length - _deepTail.Length - 1] == '/';
        }

        return _glob.IsMatch(local);
    }

    /// <summary>Docker's rule that a matched directory excludes its contents, for a path not reached by a pruning walk.</summary>
    public bool MatchesOrParentMatches(ReadOnlySpan<char> path)
    {
        if (Matches(path, isDirectory: false))
        {
            return true;
        }

        for (var i = path.LastIndexOf('/'); i > 0; i = path[..i].LastIndexOf('/'))
        {
            if (Matches(path[..i], isDirectory: true))
            {
                return true;
            }
        }

        return false;
    }

    private static IgnoreRule? ParseGitignore(string raw, string? source, int? line)
    {
        var text = TrimTrailingSpaces(raw.TrimEnd('\r'));
        if (text.Length == 0 || text[0] == '#' || text is "!" or "/" or "!/")
        {
            return null;
        }

        var (pattern, negated, anchored, directoryOnly) = (text, false, false, false);
        if (pattern.StartsWith('!'))
        {
            (pattern, negated) = (pattern[1..], true);
        }

        if (pattern.StartsWith('/'))
        {
            (pattern, anchored) = (pattern[1..], true);
        }

        if (pattern.EndsWith('/') && !pattern.EndsWith("\\/", StringComparison.Ordinal))
        {
            (pattern, directoryOnly) = (pattern[..^1], true);
        }

        // git: a slash anywhere but the end anchors the pattern to its file's directory; otherwise it names a basename.
        anchored |= pattern.Contains('/');
        return Build(text, source, line, pattern, negated, directoryOnly, anchored, IgnoreDialect.Gitignore,
            "fix or remove the pattern (see https://git-scm.com/docs/gitignore)");
    }

    private static IgnoreRule? ParseDockerignore(string raw, string? source, int? line)
    {
        var text = raw.Trim();
        if (text.Length == 0 || text[0] == '#')
        {
            return null;
        }

        var negated = false;
        var pattern = text;
        if (pattern.StartsWith('!'))
        {
            (pattern, negated) = (pattern[1..].Trim(), true);
        }

        pattern = Clean(pattern);
        return pattern.Length == 0
            ? null
            : Build(text, source, line, pattern, negated, directoryOnly: false, anchored: true, IgnoreDialect.Dockerignore,
                "fix the pattern (see https://docs.docker.com/build/concepts/context/#dockerignore-files)");
    }

    private static IgnoreRule Build(string text, string? source, int? line, string pattern, bool negated, bool directoryOnly, bool anchored,
        IgnoreDialect dialect, string fix)
    {
        try
        {
            // "**/tail" is "tail at any depth" in both dialects: a slash-free tail is a basename test, a literal one a suffix test.
            if (anchored && pattern.StartsWith("**/", StringComparison.Ordinal) && !pattern.AsSpan(3).Contains("**", StringComparison.Ordinal))
            {
                var tail = pattern[3..];
                if (!tail.Contains('/'))
                {
                    return new IgnoreRule(text, source, line, negated, directoryOnly, basenameOnly: true, null, IgnoreGlob.Compile(tail, dialect));
                }

                if (IgnoreGlob.IsLiteral(tail))
                {
                    return new IgnoreRule(text, source, line, negated, directoryOnly, basenameOnly: false, tail, IgnoreGlob.Compile(tail, dialect));
                }
            }

            return new IgnoreRule(text, source, line, negated, directoryOnly, basenameOnly: !anchored, null, IgnoreGlob.Compile(pattern, dialect));
        }
        catch (ArgumentException ex)
        {
            var kind = dialect == IgnoreDialect.Dockerignore ? ".dockerignore pattern" : "ignore pattern";
            throw new FlyteSharpException($"invalid {kind} '{text}': {ex.Message}", source, source is null ? null : line, fix);
        }
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

    // Docker cleans each pattern like Go's filepath.Clean: no leading "/", no "." segments, ".." folded; a backslash
    // reads as a separator, as it always has in FlyteSharp's image contexts.
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
}
