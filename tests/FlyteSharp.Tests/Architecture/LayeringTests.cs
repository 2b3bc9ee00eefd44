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
        ["Configuration", "Content", "Files", "Processes"],
        ["Registry", "Projects", "Runner"],
        ["Storage", "Bundles"],
        ["Images"],
        ["Tasks"],
        ["Runs", "Building", "Controller"],
        ["Execution"],
        ["Deploy", "Worker"],
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

    [Fact]
    public void Violations_DeliberatelyBadTypeSet_NameTheUpwardReference()
    {
        var graph = TypeReferenceGraph.Load(typeof(LayeringTests).Assembly.Location);

        var violations = new LayeringRule("FlyteSharp.Tests.Architecture.BadLayering", Layers, RootTypes).Violations(graph);

        var violation = Assert.Single(violations);
        Assert.Equal(
            "FlyteSharp.Tests.Architecture.BadLayering.Storage.BadBlobStore (Storage) → FlyteSharp.Tests.Architecture.BadLayering.Execution.BadExecutor (Execution): refers up the layering",
            violation);
    }

    [Fact]
    public void Violations_SiblingsOfOneLayer_AreReportedToo()
    {
        var graph = TypeReferenceGraph.Load(typeof(LayeringTests).Assembly.Location);
        string[][] flat = [["Storage", "Execution"]];

        var violations = new LayeringRule("FlyteSharp.Tests.Architecture.BadLayering", flat, RootTypes).Violations(graph);

        Assert.Equal(2, violations.Count);
        Assert.All(violations, v => Assert.EndsWith("refers across to a sibling of the same layer", v));
    }

    [Fact]
    public void Violations_ConceptWithoutLayer_IsReported()
    {
        var graph = TypeReferenceGraph.Load(typeof(LayeringTests).Assembly.Location);
        string[][] onlyStorage = [["Storage"]];

        var violations = new LayeringRule("FlyteSharp.Tests.Architecture.BadLayering", onlyStorage, RootTypes).Violations(graph);

        Assert.Contains(violations, v => v.Contains("BadExecutor (Execution): concept Execution has no layer", StringComparison.Ordinal));
    }
}
