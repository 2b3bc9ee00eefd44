using FlyteSharp.Controller;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Controller;

/// <summary>
/// The one mapping between a failed child and the controller API's <c>error</c> object, both ways: the driver reports
/// the exception the in-process call would throw; the worker throws it again (a Python child's
/// <see cref="PythonTaskException"/>, any other type through <see cref="ControllerErrors.Rehydrate"/>).
/// </summary>
internal static class ChildErrors
{
    /// <summary>The error object of a child call that threw <paramref name="exception"/>, with the run's secrets masked.</summary>
    public static ControllerError FromException(TaskDefinition task, Exception exception, Func<string, string> redact) => exception switch
    {
        PythonTaskException p => new ControllerError(p.RemoteType, redact(p.RemoteMessage), redact(p.RemoteTraceback), ControllerProtocol.ErrorKinds.Python, p.Task),

        // A C# child that failed in its own container: its exception as the worker reported it, not the driver's wrapper.
        Dotnet.DotnetTaskException d => new ControllerError(d.RemoteType, redact(d.RemoteMessage), redact(d.RemoteTraceback), ControllerProtocol.ErrorKinds.CSharp, task.Name),
        _ => new ControllerError(exception.GetType().FullName ?? exception.GetType().Name, redact(exception.Message),
            exception.StackTrace is { } trace ? redact(trace) : null, ControllerProtocol.ErrorKinds.CSharp, task.Name),
    };

    /// <summary>The exception a worker's child call throws for <paramref name="error"/> (pass it to the <see cref="ControllerClient"/>).</summary>
    public static Exception ToException(ControllerError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Kind == ControllerProtocol.ErrorKinds.Python
            ? new PythonTaskException(error.Task ?? "?", error.Type, error.Message, error.Traceback ?? "")
            : ControllerErrors.Rehydrate(error);
    }
}
