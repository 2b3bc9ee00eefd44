namespace FlyteSharp.Tasks;

/// <summary>Readable C# type names for error messages (<c>List&lt;double&gt;</c>, not <c>List`1</c>).</summary>
internal static class TypeNames
{
    public static string Describe(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            return Describe(inner) + "?";
        }

        if (type.IsArray)
        {
            return Describe(type.GetElementType()!) + "[]";
        }

        var name = type switch
        {
            _ when type == typeof(int) => "int",
            _ when type == typeof(long) => "long",
            _ when type == typeof(double) => "double",
            _ when type == typeof(float) => "float",
            _ when type == typeof(string) => "string",
            _ when type == typeof(bool) => "bool",
            _ when type == typeof(object) => "object",
            _ => null,
        };
        if (name is not null)
        {
            return name;
        }

        if (!type.IsGenericType)
        {
            return type.Name;
        }

        var baseName = type.Name[..type.Name.IndexOf('`')];
        return $"{baseName}<{string.Join(", ", type.GetGenericArguments().Select(Describe))}>";
    }
}
