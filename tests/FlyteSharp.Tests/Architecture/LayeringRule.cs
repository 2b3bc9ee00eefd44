namespace FlyteSharp.Tests.Architecture;

/// <summary>
/// An ordered layering of an assembly's concepts (the first namespace segment under <paramref name="rootNamespace"/>),
/// lowest first. A type may refer only to its own concept and to concepts of lower layers: a reference up, or across
/// to another concept of the same layer, is a violation. Any namespace loop needs such a reference, so none can pass.
/// </summary>
/// <param name="rootNamespace">The assembly's root namespace.</param>
/// <param name="layers">Concept names per layer, lowest first.</param>
/// <param name="rootTypes">Concepts of the types that live in the root namespace itself (by simple name); others are <c>Core</c>.</param>
internal sealed class LayeringRule(string rootNamespace, IReadOnlyList<string[]> layers, IReadOnlyDictionary<string, string> rootTypes)
{
    /// <summary>The concept a type belongs to, or null for a type outside the root namespace.</summary>
    public string? ConceptOf(string typeFullName)
    {
        var ns = TypeReferenceGraph.NamespaceOf(typeFullName);
        if (ns == rootNamespace)
        {
            var name = typeFullName.Split('/')[0][(ns.Length + 1)..];
            name = name.Split('`')[0];
            return rootTypes.TryGetValue(name, out var concept) ? concept : "Core";
        }

        return ns.StartsWith(rootNamespace + ".", StringComparison.Ordinal) ? ns[(rootNamespace.Length + 1)..].Split('.')[0] : null;
    }

    /// <summary>Every reference that breaks the layering, as "From (Concept) → To (Concept): why", sorted.</summary>
    public IReadOnlyList<string> Violations(TypeReferenceGraph graph)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (from, targets) in graph.References)
        {
            if (ConceptOf(from) is not { } fromConcept)
            {
                continue;
            }

            var fromLayer = LayerOf(fromConcept);
            if (fromLayer < 0)
            {
                found.Add($"{from} ({fromConcept}): concept {fromConcept} has no layer");
                continue;
            }

            foreach (var to in targets)
            {
                if (ConceptOf(to) is not { } toConcept || toConcept == fromConcept)
                {
                    continue;
                }

                var toLayer = LayerOf(toConcept);
                if (toLayer > fromLayer)
                {
                    found.Add($"{from} ({fromConcept}) → {to} ({toConcept}): refers up the layering");
                }
                else if (toLayer == fromLayer)
                {
                    found.Add($"{from} ({fromConcept}) → {to} ({toConcept}): refers across to a sibling of the same layer");
                }
                else if (toLayer < 0)
                {
                    found.Add($"{from} ({fromConcept}) → {to} ({toConcept}): concept {toConcept} has no layer");
                }
            }
        }

        return found.ToArray();
    }

    private int LayerOf(string concept)
    {
        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i].Contains(concept))
            {
                return i;
            }
        }

        return -1;
    }
}
