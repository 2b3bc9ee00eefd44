namespace FlyteSharp.Runner;

/// <summary>A Python exception as reported by the runner.</summary>
internal sealed record PythonError(string Type, string Message, string Traceback);
