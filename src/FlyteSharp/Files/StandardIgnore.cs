namespace FlyteSharp.Files;

/// <summary>
/// The patterns a tool leaves out before any ignore file is read (lowest precedence, like git's
/// <c>core.excludesFile</c>): VCS data, virtual environments, caches, build output, credential files. Later rules
/// (an ignore file's <c>!pattern</c>) can re-include what they exclude.
/// </summary>
internal sealed class StandardIgnore : IIgnore
{
    /// <summary>The source named for these rules in messages.</summary>
    public const string Source = "(standard ignores)";

    private readonly IgnoreRuleSet _rules;
    private readonly List<IgnoreRule> _credentials;

    /// <summary>Parses the standard patterns.</summary>
    /// <param name="patterns">The patterns, in order.</param>
    /// <param name="dialect">Their syntax (the dialect of the ignore files they sit under).</param>
    /// <param name="credentials">Those of <paramref name="patterns"/> that name credential files (<see cref="CredentialRule"/>).</param>
    public StandardIgnore(IEnumerable<string> patterns, IgnoreDialect dialect, IReadOnlyCollection<string>? credentials = null)
    {
        _rules = new IgnoreRuleSet(IgnoreRule.ParseLines(patterns, dialect, Source, numbered: false));
        _credentials = credentials is null ? [] : _rules.Rules.Where(r => credentials.Contains(r.Text)).ToList();
    }

    /// <inheritdoc/>
    public IgnoreRule? Winner(string relativePath, bool isDirectory) => _rules.LastMatch(relativePath, isDirectory);

    /// <inheritdoc/>
    public IIgnore Enter(string directory, string relativePrefix, IReadOnlyList<DirectoryEntry> entries) => this;

    /// <summary>The credential pattern that excludes <paramref name="relativePath"/> (for a warning when a later rule re-includes it), or null.</summary>
    public IgnoreRule? CredentialRule(string relativePath, bool isDirectory) =>
        _credentials.Find(r => r.Matches(relativePath, isDirectory));
}
