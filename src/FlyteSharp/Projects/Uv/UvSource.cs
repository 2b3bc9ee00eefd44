namespace FlyteSharp.Projects.Uv;

/// <summary>One entry of <c>[tool.uv.sources]</c>: where uv takes a dependency from instead of the package index.</summary>
/// <param name="Package">The dependency's (normalized) name, e.g. <c>my-lib</c>.</param>
/// <param name="Path">For a path source: the path as written, relative to the project (e.g. <c>../my_lib</c>).</param>
/// <param name="Editable">True when the path source is installed editable.</param>
/// <param name="Workspace">True for <c>{ workspace = true }</c>: the dependency is a workspace member.</param>
/// <param name="Git">For a git source: the repository URL.</param>
/// <param name="Url">For a URL source: the archive URL.</param>
/// <param name="Index">For an index source: the index name.</param>
/// <param name="Line">The 1-based line in pyproject.toml, when known.</param>
public sealed record UvSource(string Package, string? Path, bool Editable, bool Workspace, string? Git, string? Url, string? Index, int? Line)
{
    /// <summary>True for a local path dependency (seed Pattern B's <c>my-lib = { path = "../my_lib" }</c>).</summary>
    public bool IsPath => Path is not null;
}
