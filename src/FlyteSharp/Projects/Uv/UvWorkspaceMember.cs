namespace FlyteSharp.Projects.Uv;

/// <summary>One package of a uv workspace (the root project or a member) and where its importable code is.</summary>
/// <param name="Project">The package's pyproject.toml.</param>
/// <param name="IsRoot">True for the workspace root's own project.</param>
/// <param name="ImportRoot">The directory that goes on <c>sys.path</c>: <c>src/</c> for a src layout, the package directory for a flat one.</param>
internal sealed record UvWorkspaceMember(UvProject Project, bool IsRoot, string ImportRoot)
{
    /// <summary>The package's normalized name (as uv.lock records it).</summary>
    public string Name => UvProject.NormalizeName(Project.Name);

    /// <summary>The package's directory.</summary>
    public string Directory => Project.Directory;

    /// <summary>True when the package keeps its modules under <c>src/</c>.</summary>
    public bool IsSrcLayout => ImportRoot != Project.Directory;
}
