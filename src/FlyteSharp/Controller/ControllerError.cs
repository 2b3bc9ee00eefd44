namespace FlyteSharp.Controller;

/// <summary>
/// The <c>error</c> object of a non-200 reply. For a failed child (422), <see cref="Type"/>, <see cref="Message"/> and
/// <see cref="Traceback"/> are the child's exception as the in-process call would throw it (a Python child: the Python
/// exception, with <see cref="Kind"/> <c>python</c>); for a refusal of the controller itself, <see cref="Type"/> is one
/// of <see cref="ControllerProtocol.ErrorTypes"/>.
/// </summary>
/// <param name="Type">The exception type (.NET full name, or the Python type), or the refusal's type.</param>
/// <param name="Message">What went wrong.</param>
/// <param name="Traceback">The child's stack trace or Python traceback, when there is one.</param>
/// <param name="Kind"><c>python</c> or <c>csharp</c> for a failed child; null for a refusal.</param>
/// <param name="Task">The child's task name, for a failed child.</param>
internal sealed record ControllerError(string Type, string Message, string? Traceback = null, string? Kind = null, string? Task = null);
