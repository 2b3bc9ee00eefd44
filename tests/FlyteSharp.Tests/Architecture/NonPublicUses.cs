using Mono.Cecil;
using Mono.Cecil.Cil;

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
            var outer = Outer(type).FullName;
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

    private static TypeReference Outer(TypeReference type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    private sealed class Collector(string targetAssembly, Action<string> report)
    {
        public void Type(TypeDefinition type)
        {
            Ref(type.BaseType);
            foreach (var i in type.Interfaces)
            {
                Ref(i.InterfaceType);
            }

            Attributes(type);
            Generics(type);
            foreach (var field in type.Fields)
            {
                Ref(field.FieldType);
                Attributes(field);
            }

            foreach (var property in type.Properties)
            {
                Ref(property.PropertyType);
                Attributes(property);
            }

            foreach (var e in type.Events)
            {
                Ref(e.EventType);
            }

            foreach (var method in type.Methods)
            {
                Method(method);
            }
        }

        private void Method(MethodDefinition method)
        {
            Ref(method.ReturnType);
            Attributes(method);
            Generics(method);
            foreach (var o in method.Overrides)
            {
                MethodRef(o);
            }

            foreach (var p in method.Parameters)
            {
                Ref(p.ParameterType);
                Attributes(p);
            }

            if (!method.HasBody)
            {
                return;
            }

            foreach (var v in method.Body.Variables)
            {
                Ref(v.VariableType);
            }

            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t:
                        Ref(t);
                        break;
                    case MethodReference m:
                        MethodRef(m);
                        break;
                    case FieldReference f:
                        FieldRef(f);
                        break;
                    case CallSite c:
                        Ref(c.ReturnType);
                        foreach (var p in c.Parameters)
                        {
                            Ref(p.ParameterType);
                        }

                        break;
                }
            }
        }

        private void MethodRef(MethodReference m)
        {
            Ref(m.DeclaringType);
            Ref(m.ReturnType);
            foreach (var p in m.Parameters)
            {
                Ref(p.ParameterType);
            }

            if (m is GenericInstanceMethod g)
            {
                foreach (var a in g.GenericArguments)
                {
                    Ref(a);
                }
            }

            if (IsTarget(m.DeclaringType) && m.Resolve() is { } definition && !(Visible(definition.DeclaringType) && (definition.IsPublic || definition.IsFamily || definition.IsFamilyOrAssembly)))
            {
                report($"{definition.DeclaringType.FullName}::{definition.Name} (non-public method)");
            }
        }

        private void FieldRef(FieldReference f)
        {
            Ref(f.DeclaringType);
            Ref(f.FieldType);
            if (IsTarget(f.DeclaringType) && f.Resolve() is { } definition && !(Visible(definition.DeclaringType) && (definition.IsPublic || definition.IsFamily || definition.IsFamilyOrAssembly)))
            {
                report($"{definition.DeclaringType.FullName}::{definition.Name} (non-public field)");
            }
        }

        private void Generics(IGenericParameterProvider provider)
        {
            foreach (var g in provider.GenericParameters)
            {
                foreach (var c in g.Constraints)
                {
                    Ref(c.ConstraintType);
                }
            }
        }

        private void Attributes(ICustomAttributeProvider provider)
        {
            foreach (var a in provider.CustomAttributes)
            {
                MethodRef(a.Constructor);
                foreach (var arg in a.ConstructorArguments)
                {
                    if (arg.Value is TypeReference t)
                    {
                        Ref(t);
                    }
                }
            }
        }

        private void Ref(TypeReference? type)
        {
            switch (type)
            {
                case null:
                case GenericParameter:
                    return;
                case GenericInstanceType g:
                    Ref(g.ElementType);
                    foreach (var a in g.GenericArguments)
                    {
                        Ref(a);
                    }

                    return;
                case TypeSpecification s:
                    Ref(s.ElementType);
                    return;
            }

            if (IsTarget(type) && type.Resolve() is { } definition && !Visible(definition))
            {
                report($"{definition.FullName} (non-public type)");
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
