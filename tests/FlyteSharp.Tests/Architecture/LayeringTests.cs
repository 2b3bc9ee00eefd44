namespace FlyteSharp.Tests.Architecture;

/// <summary>
/// The library's layering (docs/architecture.md draws the same): each concept may use only the ones below it, so no
/// namespace loop and no upward reference can creep back in. A failure names every offending type and what it refers to.
/// </summary>
public class LayeringTests
{
    /// <summary>The intended layering of FlyteSharp, lowest first.</summary>
    internal static readonly string[][] Layers =
    [
        ["Core"],
        ["Configuration", "Content"],
        ["Registry", "Projects"],
        ["Storage", "Bundles"],
        ["Images"],
        ["Tasks"],
        ["Runs", "Building"],
        ["Execution"],
        ["Deploy"],
        ["Front"],
    ];

    internal static readonly Dictionary<string, string> RootTypes = new(StringComparer.Ordinal) { ["Flyte"] = "Front", ["FlyteRuntime"] = "Front" };

    [Fact]
    public void FlyteSharpAssembly_FollowsTheLayering()
    {
        var graph = TypeReferenceGraph.Load(typeof(Flyte).Assembly.Location);

        var violations = new LayeringRule("FlyteSharp", Layers, RootTypes).Violations(graph);

        Assert.True(violations.Count == 0, $"{violations.Count} reference(s) break the layering:\n" + string.Join("\n", violations));
    }
}
