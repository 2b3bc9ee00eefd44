namespace FlyteSharp.Execution.Controller;

/// <summary>A request's line and headers as read, and the bytes read past them (the start of the body).</summary>
/// <param name="Method">The method, e.g. <c>POST</c>.</param>
/// <param name="Target">The request target, e.g. <c>/v1/actions/a1b2/children</c>.</param>
/// <param name="Headers">Headers by lower-case name.</param>
/// <param name="Leftover">Bytes after the blank line.</param>
internal sealed record ControllerHttpHead(string Method, string Target, IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Leftover)
{
    /// <summary>A header's value, or null.</summary>
    public string? Header(string lowerCaseName) => Headers.TryGetValue(lowerCaseName, out var value) ? value : null;
}
