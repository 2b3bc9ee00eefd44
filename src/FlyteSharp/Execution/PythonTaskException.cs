using FlyteSharp.Runner;

namespace FlyteSharp.Execution;

/// <summary>A Python task raised an exception: carries the Python exception's type, message and traceback.</summary>
public sealed class PythonTaskException : RemoteTaskException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="task">The task reference (<c>module:function</c>).</param>
    /// <param name="pythonType">The Python exception type, e.g. <c>ValueError</c>.</param>
    /// <param name="pythonMessage">The Python exception's message.</param>
    /// <param name="pythonTraceback">The formatted Python traceback.</param>
    public PythonTaskException(string task, string pythonType, string pythonMessage, string pythonTraceback)
        : base($"Python task {task} raised {pythonType}: {pythonMessage}", task, pythonType, pythonMessage, pythonTraceback)
    {
    }

    /// <summary>The Python exception type, e.g. <c>ValueError</c> (qualified for non-builtins); the same as <see cref="RemoteTaskException.RemoteType"/>.</summary>
    public string PythonType => RemoteType;

    /// <summary>The Python exception's message; the same as <see cref="RemoteTaskException.RemoteMessage"/>.</summary>
    public string PythonMessage => RemoteMessage;

    /// <summary>The formatted Python traceback; the same as <see cref="RemoteTaskException.RemoteTraceback"/>.</summary>
    public string PythonTraceback => RemoteTraceback;

    /// <summary>The one mapping of a runner-reported Python error to the exception a task call throws.</summary>
    internal static PythonTaskException From(string task, TaskReplyError error) => new(task, error.Type, error.Message, error.Traceback);

    /// <inheritdoc/>
    public override string ToString() => $"{base.ToString()}\n--- Python traceback ---\n{PythonTraceback}";
}
