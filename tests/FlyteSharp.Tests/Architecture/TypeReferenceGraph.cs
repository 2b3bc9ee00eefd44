using Mono.Cecil;
using Mono.Cecil.Cil;

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

            var from = Outer(type).FullName;
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

    private static TypeReference Outer(TypeReference type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    private sealed class Collector(HashSet<string> own, HashSet<string> into)
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
                        Ref(f.DeclaringType);
                        Ref(f.FieldType);
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
                Ref(a.AttributeType);
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

            if (own.Contains(type.FullName))
            {
                into.Add(Outer(type).FullName);
            }
        }
    }
}
