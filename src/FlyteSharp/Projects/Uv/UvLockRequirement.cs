namespace FlyteSharp.Projects.Uv;

/// <summary>One requirement in a lock entry's metadata (<c>{ name = "rich", specifier = ">=13", extras = [...], marker = "..." }</c>).</summary>
/// <param name="Name">The requirement's package name.</param>
/// <param name="Specifier">The version specifier, if any.</param>
/// <param name="Extras">Requested extras.</param>
/// <param name="Marker">The environment marker (uv rewrites markers in its own canonical form).</param>
/// <param name="Url">A direct URL, for <c>pkg @ https://…</c> requirements.</param>
public sealed record UvLockRequirement(string Name, string? Specifier, IReadOnlyList<string> Extras, string? Marker, string? Url);
