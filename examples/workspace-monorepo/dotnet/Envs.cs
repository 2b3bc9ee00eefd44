using FlyteSharp;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace WorkspaceApp;

/// <summary>
/// The task environments of the workspace monorepo (seed Pattern A): both install from the one
/// pyproject.toml / uv.lock, each with its own dependency group, so they get separate images.
/// Local libraries (src/lib_transforms, src/lib_models) travel in the code bundle, not the image.
/// </summary>
public static class Envs
{
    /// <summary>The workspace root (examples/workspace-monorepo), found from this file like Python's __file__.</summary>
    public static readonly string WorkspaceRoot = SourceLocation.Combine("..");

    /// <summary>The code bundle's root: src/ (what you would cd into before importing workspace_app).</summary>
    public static readonly string SrcDir = Path.Combine(WorkspaceRoot, "src");

    /// <summary>ETL tasks: the etl dependency group.</summary>
    public static readonly TaskEnvironment Etl = new(
        "etl",
        Image.FromDebianBase()
            .WithUvProject(Path.Combine(WorkspaceRoot, "pyproject.toml"), extraArgs: "--only-group etl")
            .WithCodeBundle(),
        new Resources(Cpu: "1", Memory: "512Mi"));

    /// <summary>ML tasks: the ml dependency group.</summary>
    public static readonly TaskEnvironment Ml = new(
        "ml",
        Image.FromDebianBase()
            .WithUvProject(Path.Combine(WorkspaceRoot, "pyproject.toml"), extraArgs: "--only-group ml")
            .WithCodeBundle(),
        new Resources(Cpu: "1", Memory: "1Gi"));
}
