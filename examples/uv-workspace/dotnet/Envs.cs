using FlyteSharp;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace UvWorkspace;

/// <summary>
/// The environments of the uv workspace example. Both install from the workspace's one pyproject.toml / uv.lock
/// (third-party dependencies only: the workspace's own packages travel in the code bundle, with root_dir at the
/// workspace root). <c>reports</c> syncs every package; <c>pricing</c> syncs only the pricing member and its
/// <c>bench</c> group.
/// </summary>
public static class Envs
{
    /// <summary>The workspace root (examples/uv-workspace), found from this file like Python's __file__.</summary>
    public static readonly string WorkspaceRoot = SourceLocation.Combine("..");

    /// <summary>The workspace's root pyproject.toml.</summary>
    public static readonly string Pyproject = Path.Combine(WorkspaceRoot, "pyproject.toml");

    /// <summary>Report tasks: every workspace package's dependencies (uv sync --all-packages).</summary>
    public static readonly TaskEnvironment Reports = new(
        "reports",
        Image.FromDebianBase().WithUvProject(Pyproject).WithCodeBundle(),
        new Resources(Cpu: "1", Memory: "256Mi"));

    /// <summary>Pricing tasks: only the pricing member's dependencies and its bench group.</summary>
    public static readonly TaskEnvironment Pricing = new(
        "pricing",
        Image.FromDebianBase().WithUvProject(Pyproject, extraArgs: "--package pricing --group bench").WithCodeBundle(),
        new Resources(Cpu: "1", Memory: "256Mi"));
}
