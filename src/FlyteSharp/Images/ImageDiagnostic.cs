namespace FlyteSharp.Images;

/// <summary>One finding about an image definition (<see cref="ImageDiagnostics.Check"/>): what is wrong, why it matters and what to do.</summary>
/// <param name="Severity">How serious it is.</param>
/// <param name="Reason">What is wrong and why it matters.</param>
/// <param name="File">The file it is about, when there is one.</param>
/// <param name="Line">The line in <paramref name="File"/>, when known.</param>
/// <param name="Fix">What to do about it.</param>
public sealed record ImageDiagnostic(DiagnosticSeverity Severity, string Reason, string? File, int? Line, string Fix);
