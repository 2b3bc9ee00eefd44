namespace FlyteSharp.Runner;

/// <summary>One parameter of a described Python function.</summary>
internal sealed record PythonParameterInfo(string Name, string? Annotation, string Kind, bool HasDefault);
