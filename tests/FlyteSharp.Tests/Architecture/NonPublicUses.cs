using Mono.Cecil;

namespace FlyteSharp.Tests.Architecture;

/// <summary>
/// Every use one assembly's compiled code makes of a type, method or field of another assembly that is not part of that
/// assembly's public surface (internal, private, or nested in something that is): signatures, base types, attributes,
/// generic arguments and every member named in method bodies. It is what <c>InternalsVisibleTo</c> lets compile, so an
/// assembly with no such use needs none. Compiler-made nested types (lambdas, iterators) count as their outer type.
/// </summary>
internal static class NonPublicUses
{
    /// <summary>"UsingType → what (kind)" for each non-public use, sorted and distinct.</summary>
    /// <param name="assemblyPath">The assembly whose code is read; the target assembly must sit next to it.</param>
    /// <param name="targetAssembly">The simple name of the assembly whose non-public members must not be used.</param>
    /// <param name="namespacePrefix">Only types of this namespace (or below) are read; null reads every type.</param>
    public static IReadOnlyList<string> Find(string assemblyPath, string targetAssembly, string? namespacePrefix = null)
    {
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(assemblyPath)!);
        using var module = ModuleDefinition.ReadModule(assemblyPath, new ReaderParameters { AssemblyResolver = resolver });
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            var outer = IlReferenceWalker.Outer(type).FullName;
            if (type.Name == "<Module>" || (namespacePrefix is not null && !InNamespace(outer, namespacePrefix)))
            {
                continue;
            }

            new Collector(targetAssembly, what => found.Add($"{outer} → {what}")).Type(type);
        }

        return [.. found];
    }

    private static bool InNamespace(string fullName, string prefix) =>
        fullName.StartsWith(prefix + ".", StringComparison.Ordinal);

    private sealed class Collector(string targetAssembly, Action<string> report) : IlReferenceWalker
    {
        protected override void OnType(TypeReference type)
        {
            if (IsTarget(type) && type.Resolve() is { } definition && !Visible(definition))
            {
                report($"{definition.FullName} (non-public type)");
            }
        }

        protected override void OnMethod(MethodReference m)
        {
            if (IsTarget(m.DeclaringType) && m.Resolve() is { } definition && !(Visible(definition.DeclaringType) && (definition.IsPublic || definition.IsFamily || definition.IsFamilyOrAssembly)))
            {
                report($"{definition.DeclaringType.FullName}::{definition.Name} (non-public method)");
            }
        }

        protected override void OnField(FieldReference f)
        {
            if (IsTarget(f.DeclaringType) && f.Resolve() is { } definition && !(Visible(definition.DeclaringType) && (definition.IsPublic || definition.IsFamily || definition.IsFamilyOrAssembly)))
            {
                report($"{definition.DeclaringType.FullName}::{definition.Name} (non-public field)");
            }
        }

        private bool IsTarget(TypeReference type)
        {
            while (type is TypeSpecification s)
            {
                type = s.ElementType;
            }

            return type.Scope switch
            {
                AssemblyNameReference a => a.Name == targetAssembly,
                ModuleDefinition m => m.Assembly.Name.Name == targetAssembly,
                _ => false,
            };
        }

        private static bool Visible(TypeDefinition type) =>
            type.IsNested
                ? (type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamilyOrAssembly) && Visible(type.DeclaringType)
                : type.IsPublic;
    }
}
