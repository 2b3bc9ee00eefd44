namespace FlyteSharp.Runner;

/// <summary>What the runner's describe reports for one reference.</summary>
internal sealed record PythonFunctionInfo(
    string Task,
    bool Ok,
    string? File,
    bool IsAsync,
    IReadOnlyList<PythonParameterInfo> Parameters,
    string? ErrorType,
    string? ErrorMessage,
    IReadOnlyList<string> Defined);
