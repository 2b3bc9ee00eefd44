namespace FlyteSharp.Files;

/// <summary>
/// An ordered list of <see cref="IgnoreRule"/>s (later rules win) with an index that finds the deciding rule without
/// testing every rule against every path: a walk asks once per entry, and most rules (the standard ignores, typical
/// ignore files) name a basename (<c>**/.venv</c>, <c>__pycache__</c>), a basename suffix (<c>*.pyc</c>) or a basename
/// prefix (<c>id_rsa*</c>), which a path can only match when its basename equals, ends with or starts with that text.
/// </summary>
/// <remarks>
/// The index only chooses which rules to test; each candidate is still tested in full (<see cref="IgnoreRule.Matches(ReadOnlySpan{char}, bool)"/>),
/// and the highest-numbered match wins exactly as a scan from the end would find it.
/// </remarks>
internal sealed class IgnoreRuleSet
{
    private readonly Dictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _byBasename;
    private readonly Dictionary<char, int[]> _bySuffixEnd;
    private readonly Dictionary<char, int[]> _byPrefixStart;
    private readonly int[] _others;

    /// <summary>Indexes <paramref name="rules"/> (in precedence order, lowest first).</summary>
    public IgnoreRuleSet(List<IgnoreRule> rules)
    {
        Rules = rules;
        var byBasename = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var bySuffixEnd = new Dictionary<char, List<int>>();
        var byPrefixStart = new Dictionary<char, List<int>>();
        var others = new List<int>();
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            if (rule.BasenameLiteral is { Length: > 0 } literal)
            {
                Add(byBasename, literal, i);
            }
            else if (rule.BasenameSuffix is { Length: > 0 } suffix)
            {
                Add(bySuffixEnd, suffix[^1], i);
            }
            else if (rule.BasenamePrefix is { Length: > 0 } prefix)
            {
                Add(byPrefixStart, prefix[0], i);
            }
            else
            {
                others.Add(i);
            }
        }

        _byBasename = byBasename.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        _bySuffixEnd = bySuffixEnd.ToDictionary(p => p.Key, p => p.Value.ToArray());
        _byPrefixStart = byPrefixStart.ToDictionary(p => p.Key, p => p.Value.ToArray());
        _others = [.. others];
    }

    /// <summary>An empty set.</summary>
    public static IgnoreRuleSet Empty { get; } = new([]);

    /// <summary>The rules, in precedence order (lowest first).</summary>
    public List<IgnoreRule> Rules { get; }

    /// <summary>The last rule that matches <paramref name="local"/> (a path relative to where the rules apply), or null.</summary>
    public IgnoreRule? LastMatch(ReadOnlySpan<char> local, bool isDirectory)
    {
        if (Rules.Count == 0)
        {
            return null;
        }

        var basenameStart = local.LastIndexOf('/') + 1;
        var basename = local[basenameStart..];
        var best = Last(_others, -1, local, basenameStart, isDirectory);
        if (basename.Length > 0)
        {
            if (_byBasename.TryGetValue(basename, out var named))
            {
                best = Last(named, best, local, basenameStart, isDirectory);
            }

            if (_bySuffixEnd.TryGetValue(basename[^1], out var suffixed))
            {
                best = Last(suffixed, best, local, basenameStart, isDirectory);
            }

            if (_byPrefixStart.TryGetValue(basename[0], out var prefixed))
            {
                best = Last(prefixed, best, local, basenameStart, isDirectory);
            }
        }

        return best < 0 ? null : Rules[best];
    }

    // The highest index in candidates (ascending) above best whose rule matches; best when none does.
    private int Last(int[] candidates, int best, ReadOnlySpan<char> local, int basenameStart, bool isDirectory)
    {
        for (var c = candidates.Length - 1; c >= 0 && candidates[c] > best; c--)
        {
            if (Rules[candidates[c]].Matches(local, basenameStart, isDirectory))
            {
                return candidates[c];
            }
        }

        return best;
    }

    private static void Add<TKey>(Dictionary<TKey, List<int>> index, TKey key, int rule)
        where TKey : notnull
    {
        if (!index.TryGetValue(key, out var list))
        {
            index[key] = list = [];
        }

        list.Add(rule);
    }
}
