using Mono.Cecil;
using Mono.Cecil.Cil;

namespace FlyteSharp.Tests.Architecture;

/// <summary>
/// Walks everything one type's compiled code refers to: base types, interfaces, signatures, attributes (their
/// constructors), generic constraints and arguments, overrides, and every type, method and field named in method
/// bodies. Each named type reaches <see cref="OnType"/> with generic instances and arrays unwrapped to their element
/// types and arguments; members reach <see cref="OnMethod"/> and <see cref="OnField"/> after their types.
/// One traversal for the architecture checks (<see cref="TypeReferenceGraph"/>, <see cref="NonPublicUses"/>).
/// </summary>
internal abstract class IlReferenceWalker
{
    /// <summary>The outermost declaring type (compiler-made nested types count as the type that holds them).</summary>
    public static TypeReference Outer(TypeReference type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    /// <summary>Walks one type: its declaration, its members' signatures and its method bodies.</summary>
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

    /// <summary>A type named by the walked code (never a generic parameter, generic instance, array or pointer).</summary>
    protected abstract void OnType(TypeReference type);

    /// <summary>A method named by the walked code, after its declaring type, signature and generic arguments.</summary>
    protected virtual void OnMethod(MethodReference method)
    {
    }

    /// <summary>A field named by the walked code, after its declaring type and field type.</summary>
    protected virtual void OnField(FieldReference field)
    {
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

        OnMethod(m);
    }

    private void FieldRef(FieldReference f)
    {
        Ref(f.DeclaringType);
        Ref(f.FieldType);
        OnField(f);
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

        OnType(type);
    }
}
