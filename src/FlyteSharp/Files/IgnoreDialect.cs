namespace FlyteSharp.Files;

/// <summary>The syntax and meaning of an ignore file's lines.</summary>
internal enum IgnoreDialect
{
    /// <summary>
    /// <c>.gitignore</c> / <c>.flyteignore</c>: a slash-free pattern matches a name at any depth, a leading or inner slash
    /// anchors it to the directory of its file, a trailing slash matches directories only, <c>**</c> is special only as a
    /// whole path segment, trailing spaces are dropped unless escaped.
    /// </summary>
    Gitignore,

    /// <summary>
    /// <c>.dockerignore</c> (moby/patternmatcher): every pattern is anchored at the context's root and cleaned like a path,
    /// <c>**</c> spans any number of segments wherever it stands, a pattern that matches a directory excludes everything
    /// below it, lines are trimmed on both sides.
    /// </summary>
    Dockerignore,
}
