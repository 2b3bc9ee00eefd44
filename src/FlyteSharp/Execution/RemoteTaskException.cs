namespace FlyteSharp.Execution;

/// <summary>
/// A task that ran outside this process (a Python task in the runner, a C# task in the .NET worker of a container or pod)
/// raised: carries the remote exception's type, message and traceback as the runner reported them. Catch this to handle
/// a failed task whichever language it is written in; <see cref="PythonTaskException"/> and
/// <see cref="Dotnet.DotnetTaskException"/> tell them apart.
/// </summary>
public abstract class RemoteTaskException : Exception
{
    private protected RemoteTaskException(string message, string task, string remoteType, string remoteMessage, string remoteTraceback)
        : base(message)
    {
        Task = task;
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteTraceback = remoteTraceback;
    }

    /// <summary>The task (a C# task's name, a Python task's <c>module:function</c>).</summary>
    public string Task { get; }

    /// <summary>The remote exception's type name (Python: <c>ValueError</c> or <c>module.Class</c>; C#: the full type name).</summary>
    public string RemoteType { get; }

    /// <summary>The remote exception's message.</summary>
    public string RemoteMessage { get; }

    /// <summary>The remote traceback: the Python traceback, or the C# exception's <c>ToString()</c> in the worker.</summary>
    public string RemoteTraceback { get; }
}
