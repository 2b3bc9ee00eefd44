namespace FlyteSharp.Runner;

/// <summary>The outcome of one Python call: the output's JSON text, or the Python error.</summary>
internal sealed record PythonTaskResult(string? OutputJson, PythonError? Error)
{
    /// <summary>A file holding the output's JSON when it was above the inline limit (then <see cref="OutputJson"/> is null).</summary>
    public string? OutputFile { get; init; }
}
