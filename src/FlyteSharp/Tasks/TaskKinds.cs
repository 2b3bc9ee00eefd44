namespace FlyteSharp.Tasks;

/// <summary>The stable names of <see cref="TaskKind"/> in stores and JSON.</summary>
internal static class TaskKinds
{
    /// <summary>The name of <see cref="TaskKind.CSharp"/>.</summary>
    public const string CSharpName = "csharp";

    /// <summary>The name of <see cref="TaskKind.Python"/>.</summary>
    public const string PythonName = "python";

    /// <summary>The stored name of <paramref name="kind"/>.</summary>
    public static string Name(TaskKind kind) => kind == TaskKind.Python ? PythonName : CSharpName;

    /// <summary>The kind a stored name stands for.</summary>
    /// <exception cref="InvalidDataException">The name is not one FlyteSharp writes.</exception>
    public static TaskKind Parse(string name) => name switch
    {
        CSharpName => TaskKind.CSharp,
        PythonName => TaskKind.Python,
        _ => throw new InvalidDataException($"unknown task kind '{name}' (expected {CSharpName} or {PythonName})"),
    };
}
