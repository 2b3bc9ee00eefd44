using System.Text;
using System.Text.RegularExpressions;

namespace FlyteSharp.Files;

/// <summary>
/// A compiled ignore pattern: <c>*</c> and <c>?</c> stay within one path segment, <c>[...]</c> is a character class
/// (<c>!</c> or <c>^</c> negates), a backslash escapes the next character; <c>**</c> as the dialect says. The common
/// forms (a literal, <c>*suffix</c>, <c>prefix*</c>) are string tests; the rest is one regex.
/// </summary>
internal sealed class IgnoreGlob
{
    private readonly string? _literal;
    private readonly string? _suffix;
    private readonly string? _prefix;
    private readonly Regex? _regex;

    private IgnoreGlob(string? literal, string? suffix, string? prefix, Regex? regex)
    {
        _literal = literal;
        _suffix = suffix;
        _prefix = prefix;
        _regex = regex;
    }

    /// <summary>The text a literal pattern matches, or null.</summary>
    public string? Literal => _literal;

    /// <summary>The literal tail of a slash-free <c>*suffix</c> pattern, or null.</summary>
    public string? Suffix => _suffix;

    /// <summary>The literal head of a slash-free <c>prefix*</c> pattern, or null.</summary>
    public string? Prefix => _prefix;

    /// <summary>True when <paramref name="text"/> has no glob syntax (it matches only itself).</summary>
    public static bool IsLiteral(ReadOnlySpan<char> text) => text.IndexOfAny("*?[\\") < 0;

    /// <summary>Compiles <paramref name="pattern"/> (no <c>!</c>, no anchoring slash: those are the rule's).</summary>
    /// <exception cref="ArgumentException">The pattern is invalid (an unterminated character class).</exception>
    public static IgnoreGlob Compile(string pattern, IgnoreDialect dialect)
    {
        if (IsLiteral(pattern))
        {
            return new IgnoreGlob(pattern, null, null, null);
        }

        // A suffix or prefix test is exact only without a slash: '*' never crosses one.
        if (pattern.Length > 1 && !pattern.Contains('/'))
        {
            if (pattern[0] == '*' && IsLiteral(pattern.AsSpan(1)))
            {
                return new IgnoreGlob(null, pattern[1..], null, null);
            }

            if (pattern[^1] == '*' && IsLiteral(pattern.AsSpan(0, pattern.Length - 1)))
            {
                return new IgnoreGlob(null, null, pattern[..^1], null);
            }
        }

        return new IgnoreGlob(null, null, null, new Regex(ToRegex(pattern, dialect), RegexOptions.CultureInvariant));
    }

    /// <summary>True when the whole of <paramref name="text"/> matches.</summary>
    public bool IsMatch(ReadOnlySpan<char> text)
    {
        if (_literal is not null)
        {
            return text.SequenceEqual(_literal);
        }

        if (_suffix is not null)
        {
            return text.EndsWith(_suffix, StringComparison.Ordinal) && !text.Contains('/');
        }

        if (_prefix is not null)
        {
            return text.StartsWith(_prefix, StringComparison.Ordinal) && !text[_prefix.Length..].Contains('/');
        }

        return _regex!.IsMatch(text);
    }

    private static string ToRegex(string pattern, IgnoreDialect dialect)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*' when dialect == IgnoreDialect.Gitignore:
                    var end = i;
                    while (end < pattern.Length && pattern[end] == '*')
                    {
                        end++;
                    }

                    // git: "**" is special only as a whole segment ("**/x", "x/**/y", "x/**"); elsewhere it is "*".
                    var wholeSegment = end - i >= 2 && (i == 0 || pattern[i - 1] == '/') && (end == pattern.Length || pattern[end] == '/');
                    if (!wholeSegment)
                    {
                        sb.Append("[^/]*");
                    }
                    else if (end == pattern.Length)
                    {
                        sb.Append(".*");
                    }
                    else
                    {
                        sb.Append("(?:.*/)?"); // "**/": zero or more whole directories
                        end++;
                    }

                    i = end - 1;
                    break;
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    // Docker: "**" spans segments wherever it stands; "**/" is zero or more whole directories.
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                    {
                        i++;
                        sb.Append("(?:.*/)?");
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
                    i = AppendClass(pattern, i, dialect, sb);
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

    // "[...]": "!" or "^" first negates, a "]" right after the opening (or the negation) is literal, "a-z" is a range,
    // a backslash escapes. Returns the index of the closing "]".
    private static int AppendClass(string pattern, int open, IgnoreDialect dialect, StringBuilder sb)
    {
        var k = open + 1;
        var negated = k < pattern.Length && pattern[k] is '!' or '^';
        if (negated)
        {
            k++;
        }

        var body = new StringBuilder();
        for (var first = true; k < pattern.Length && (pattern[k] != ']' || first); k++, first = false)
        {
            var c = pattern[k];
            if (c == '\\' && k + 1 < pattern.Length)
            {
                c = pattern[++k];
            }
            else if (c == '-' && !first && k + 1 < pattern.Length && pattern[k + 1] != ']')
            {
                body.Append('-');
                continue;
            }

            if (c is '\\' or ']' or '[' or '^' or '-')
            {
                body.Append('\\');
            }

            body.Append(c);
        }

        if (k >= pattern.Length)
        {
            throw new ArgumentException("unterminated character class");
        }

        // git matches with WM_PATHNAME: no class ever matches the separator.
        sb.Append(negated ? dialect == IgnoreDialect.Gitignore ? "[^/" : "[^" : "[").Append(body).Append(']');
        return k;
    }
}
