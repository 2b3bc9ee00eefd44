using System.Reflection;
using System.Text;
using FlyteSharp.Projects;

namespace FlyteSharp.Tests;

/// <summary>
/// Freezes the FlyteSharp assembly's public surface (as Serilog does): every exported type and its public and
/// protected members, rendered sorted into <c>PublicApi.approved.txt</c>. A change to the surface fails here
/// until the approved file is updated on purpose: run with FLYTESHARP_UPDATE_GOLDEN=1 and review the diff.
/// </summary>
public class PublicApiTests
{
    private static readonly bool UpdateGolden = Environment.GetEnvironmentVariable("FLYTESHARP_UPDATE_GOLDEN") == "1";

    [Fact]
    public async Task PublicApi_FlyteSharpAssembly_MatchesApproved()
    {
        var actual = Render(typeof(Flyte).Assembly);
        var path = Path.Combine(SourceLocation.Directory(), "PublicApi.approved.txt");
        if (UpdateGolden)
        {
            await File.WriteAllTextAsync(path, actual, TestContext.Current.CancellationToken);
        }

        Assert.True(File.Exists(path), $"missing {path}; run with FLYTESHARP_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken), actual);
    }

    [Fact]
    public void Render_InternalType_IsNotListed() =>
        Assert.DoesNotContain("FlyteSharp.Content.Digests", Render(typeof(Flyte).Assembly));

    private static string Render(Assembly assembly)
    {
        var text = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(TypeHeader(type)).Append('\n');
            foreach (var member in Members(type).Order(StringComparer.Ordinal))
            {
                text.Append("    ").Append(member).Append('\n');
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static string TypeHeader(Type type)
    {
        var kind = type.IsEnum ? "enum"
            : type.IsInterface ? "interface"
            : type.IsValueType ? "struct"
            : typeof(Delegate).IsAssignableFrom(type) ? "delegate"
            : type.IsAbstract && type.IsSealed ? "static class"
            : type.IsAbstract ? "abstract class"
            : type.IsSealed ? "sealed class"
            : "class";
        var bases = new List<string>();
        if (type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum))
        {
            bases.Add(Name(b));
        }

        if (!type.IsEnum)
        {
            bases.AddRange(type.GetInterfaces().Select(Name).Order(StringComparer.Ordinal));
        }
        return $"public {kind} {Name(type, full: true)}" + (bases.Count > 0 ? " : " + string.Join(", ", bases) : "");
    }

    private static IEnumerable<string> Members(Type type)
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.IsEnum)
        {
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                yield return $"{field.Name} = {Convert.ToInt64(field.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}";
            }

            yield break;
        }

        var nullability = new NullabilityInfoContext();
        foreach (var member in type.GetMembers(flags))
        {
            if (member.Name.StartsWith('<'))
            {
                continue; // compiler-generated (e.g. a record's <Clone>$)
            }

            switch (member)
            {
                case ConstructorInfo c when Visible(c) && !c.IsStatic:
                    yield return $"{Access(c)}ctor({Parameters(c, nullability)})";
                    break;
                case MethodInfo m when Visible(m) && (!m.IsSpecialName || m.Name.StartsWith("op_", StringComparison.Ordinal)):
                    var generic = m.IsGenericMethod ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">" : "";
                    yield return $"{Access(m)}{Modifiers(m)}{Name(m.ReturnType, nullability.Create(m.ReturnParameter))} {m.Name}{generic}({Parameters(m, nullability)})";
                    break;
                case PropertyInfo p when Accessors(p).Any(Visible):
                    var accessors = string.Join(" ", Accessors(p).Where(Visible).Select(a => (a == p.SetMethod && IsInitOnly(a) ? "init" : a == p.GetMethod ? "get" : "set") + ";"));
                    var indexer = p.GetIndexParameters() is { Length: > 0 } ip ? "[" + string.Join(", ", ip.Select(x => Name(x.ParameterType))) + "]" : "";
                    yield return $"{Access(Accessors(p).First(Visible))}{Modifiers(Accessors(p).First(Visible))}{Name(p.PropertyType, nullability.Create(p))} {p.Name}{indexer} {{ {accessors} }}";
                    break;
                case FieldInfo f when f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly:
                    var constant = f.IsLiteral ? "const " : f.IsStatic ? "static " : "";
                    var readOnly = f.IsInitOnly ? "readonly " : "";
                    yield return $"{(f.IsPublic ? "public " : "protected ")}{constant}{readOnly}{Name(f.FieldType, nullability.Create(f))} {f.Name}";
                    break;
                case EventInfo e when e.AddMethod is { } add && Visible(add):
                    yield return $"{Access(add)}{Modifiers(add)}event {Name(e.EventHandlerType!)} {e.Name}";
                    break;
                case Type nested when nested.IsNestedPublic || nested.IsNestedFamily:
                    yield return $"nested {Name(nested)}";
                    break;
            }
        }
    }

    private static IEnumerable<MethodInfo> Accessors(PropertyInfo p) => new[] { p.GetMethod, p.SetMethod }.OfType<MethodInfo>();

    private static bool Visible(MethodBase m) => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly;

    private static string Access(MethodBase m) => m.IsPublic ? "public " : "protected ";

    private static bool IsInitOnly(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Any(t => t.FullName == "System.Runtime.CompilerServices.IsExternalInit");

    private static string Modifiers(MethodInfo m) =>
        m.IsStatic ? "static "
        : m.IsAbstract && !m.DeclaringType!.IsInterface ? "abstract "
        : m.IsVirtual && !m.IsFinal && !m.DeclaringType!.IsInterface ? (m.GetBaseDefinition() != m ? "override " : "virtual ")
        : "";

    private static string Parameters(MethodBase method, NullabilityInfoContext nullability) =>
        string.Join(", ", method.GetParameters().Select(p =>
        {
            var prefix = p.IsOut ? "out " : p.ParameterType.IsByRef ? (p.IsIn ? "in " : "ref ") : p.IsDefined(typeof(ParamArrayAttribute)) ? "params " : "";
            var defaultValue = p.HasDefaultValue ? " = " + (p.DefaultValue switch { null => p.ParameterType.IsValueType ? "default" : "null", string s => $"\"{s}\"", bool v => v ? "true" : "false", var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) }) : "";
            return $"{prefix}{Name(p.ParameterType, nullability.Create(p))} {p.Name}{defaultValue}";
        }));

    private static string Name(Type type) => Name(type, nullability: null);

    private static string Name(Type type, bool full) => full ? type.Namespace + "." + Name(type) : Name(type);

    private static string Name(Type type, NullabilityInfo? nullability)
    {
        if (type.IsByRef)
        {
            return Name(type.GetElementType()!, nullability);
        }

        var nullable = nullability is { ReadState: NullabilityState.Nullable } && !type.IsValueType ? "?" : "";
        if (type.IsArray)
        {
            return Name(type.GetElementType()!, nullability?.ElementType) + "[]" + nullable;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }

        if (type.IsGenericParameter)
        {
            return type.Name; // reflection cannot tell T from T? for an unconstrained T: both read as maybe-null
        }

        var name = type.DeclaringType is { } outer && !type.IsGenericParameter ? Name(outer) + "." + type.Name : type.Name;
        if (type.IsGenericType)
        {
            var args = type.GetGenericArguments();
            name = (name.IndexOf('`') is var tick and >= 0 ? name[..tick] : name) + "<" + string.Join(", ", args.Select((a, i) =>
                Name(a, nullability is { GenericTypeArguments.Length: > 0 } n && i < n.GenericTypeArguments.Length ? n.GenericTypeArguments[i] : null))) + ">";
        }

        return name + nullable;
    }
}
