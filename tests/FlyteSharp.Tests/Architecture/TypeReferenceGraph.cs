using Mono.Cecil;

namespace FlyteSharp.Tests.Architecture;

/// <summary>
/// Which types of one assembly refer to which other types of the same assembly: signatures, base types, attributes,
/// generic arguments and every type, method and field named in method bodies (what the compiled code really uses,
/// not what <c>using</c> lines or doc comments mention). Compiler-made nested types count as their outer type.
/// </summary>
internal sealed class TypeReferenceGraph
{
    private TypeReferenceGraph(IReadOnlyDictionary<string, IReadOnlySet<string>> references) => References = references;

    /// <summary>Outer type full name → the full names of the outer types it refers to (itself excluded).</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> References { get; }

    public static TypeReferenceGraph Load(string assemblyPath)
    {
        using var module = ModuleDefinition.ReadModule(assemblyPath);
        var own = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            own.Add(type.FullName);
        }

        var references = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            if (type.Name == "<Module>")
            {
                continue;
            }

            var from = IlReferenceWalker.Outer(type).FullName;
            if (!references.TryGetValue(from, out var set))
            {
                references[from] = set = new HashSet<string>(StringComparer.Ordinal);
            }

            var collector = new Collector(own, set);
            collector.Type(type);
            set.Remove(from);
        }

        return new TypeReferenceGraph(references.ToDictionary(kv => kv.Key, kv => (IReadOnlySet<string>)kv.Value, StringComparer.Ordinal));
    }

    /// <summary>The namespace of a type's outermost declaring type (nested types have none of their own).</summary>
    public static string NamespaceOf(string fullName)
    {
        var outer = fullName.Split('/')[0];
        var dot = outer.LastIndexOf('.');
        return dot < 0 ? "" : outer[..dot];
    }

    private sealed class Collector(HashSet<string> own, HashSet<string> into) : IlReferenceWalker
    {
        protected override void OnType(TypeReference type)
        {
            if (own.Contains(type.FullName))
            {
                into.Add(Outer(type).FullName);
            }
        }
    }
}
