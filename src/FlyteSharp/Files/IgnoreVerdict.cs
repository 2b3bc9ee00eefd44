namespace FlyteSharp.Files;

/// <summary>What the last matching ignore rule says about a path.</summary>
internal enum IgnoreVerdict
{
    /// <summary>No rule matches: the path is kept.</summary>
    None,

    /// <summary>An exclusion rule wins: the path is left out.</summary>
    Ignored,

    /// <summary>A <c>!</c> rule wins: the path is kept although an earlier rule may exclude it.</summary>
    Reincluded,
}
