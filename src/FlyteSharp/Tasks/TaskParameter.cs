namespace FlyteSharp.Tasks;

/// <summary>One named, typed input of a task.</summary>
/// <param name="Name">The parameter name inputs are passed by (the C# lambda's or the Python function's).</param>
/// <param name="Type">The C# type values are converted to and from.</param>
public sealed record TaskParameter(string Name, Type Type);
