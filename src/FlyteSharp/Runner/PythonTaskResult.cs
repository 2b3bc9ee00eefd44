namespace FlyteSharp.Runner;

/// <summary>The outcome of one Python call: the output's JSON text, or the Python error.</summary>
internal sealed record PythonTaskResult(string? OutputJson, PythonError? Error);
