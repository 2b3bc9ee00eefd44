namespace FlyteSharp.Runner;

/// <summary>An exception a runner reported for a task call (a Python exception or a C# one from the .NET worker).</summary>
/// <param name="Type">The exception's type name (Python: <c>ValueError</c> or <c>module.Class</c>; C#: the full type name).</param>
/// <param name="Message">Its message.</param>
/// <param name="Traceback">The Python traceback or the C# exception's <c>ToString()</c> (stack trace included).</param>
internal sealed record TaskReplyError(string Type, string Message, string Traceback);
