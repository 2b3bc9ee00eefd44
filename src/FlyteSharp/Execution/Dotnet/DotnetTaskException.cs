namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// A C# task that ran outside the driver (in a container or pod) threw: carries the remote exception's type, message
/// and stack trace as FlyteSharp's .NET worker reported them.
/// </summary>
public sealed class DotnetTaskException : RemoteTaskException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="task">The task's name.</param>
    /// <param name="exceptionType">The remote exception's full type name, e.g. <c>System.InvalidOperationException</c>.</param>
    /// <param name="remoteMessage">Its message.</param>
    /// <param name="remoteStackTrace">Its stack trace (the exception's <c>ToString()</c> in the worker).</param>
    public DotnetTaskException(string task, string exceptionType, string remoteMessage, string remoteStackTrace)
        : base($"C# task {task} threw {exceptionType}: {remoteMessage}", task, exceptionType, remoteMessage, remoteStackTrace)
    {
    }

    /// <summary>The remote exception's full type name; the same as <see cref="RemoteTaskException.RemoteType"/>.</summary>
    public string ExceptionType => RemoteType;

    /// <summary>The remote exception as the worker formatted it, stack trace included; the same as <see cref="RemoteTaskException.RemoteTraceback"/>.</summary>
    public string RemoteStackTrace => RemoteTraceback;

    /// <inheritdoc/>
    public override string ToString() => $"{base.ToString()}\n--- remote ---\n{RemoteStackTrace}";
}
