namespace FlyteSharp.Runs;

/// <summary>An error as recorded: its type, message and (Python) traceback or (C#) stack trace.</summary>
/// <param name="Type">The exception type (C# full name or Python type).</param>
/// <param name="Message">The message.</param>
/// <param name="Traceback">The Python traceback or C# stack trace, if any.</param>
public sealed record TaskError(string Type, string Message, string? Traceback);
