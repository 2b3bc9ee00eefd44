namespace FlyteSharp.Projects.Uv;

/// <summary>One locked package.</summary>
/// <param name="Name">Package name.</param>
/// <param name="Version">Pinned version (absent for some local sources).</param>
/// <param name="SourceKind">Where it comes from: <c>registry</c>, <c>editable</c>, <c>directory</c>, <c>virtual</c>, <c>git</c>, <c>url</c>, <c>path</c>.</param>
/// <param name="Source">The source's value, e.g. the index URL or a relative path.</param>
public sealed record UvLockPackage(string Name, string? Version, string? SourceKind, string? Source)
{
    /// <summary>True for packages that come from the local filesystem (editable, directory, path, virtual).</summary>
    public bool IsLocal => SourceKind is "editable" or "directory" or "path" or "virtual";

    /// <summary>True when the entry has a <c>[package.metadata]</c> table (uv writes one for the workspace's own packages).</summary>
    public bool HasMetadata { get; init; }

    /// <summary><c>[package.metadata] requires-dist</c>: the package's dependencies and extras as uv recorded them when it locked.</summary>
    public IReadOnlyList<UvLockRequirement> RequiresDist { get; init; } = [];

    /// <summary><c>[package.metadata.requires-dev]</c>: the dependency groups as uv recorded them, by normalized group name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<UvLockRequirement>> RequiresDev { get; init; } = new Dictionary<string, IReadOnlyList<UvLockRequirement>>();
}
