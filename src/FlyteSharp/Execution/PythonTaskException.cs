using FlyteSharp.Runner;

namespace FlyteSharp.Execution;

/// <summary>A Python task raised an exception: carries the Python exception's type, message and traceback.</summary>
public sealed class PythonTaskException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="task">The task reference (<c>module:function</c>).</param>
    /// <param name="pythonType">The Python exception type, e.g. <c>ValueError</c>.</param>
    /// <param name="pythonMessage">The Python exception's message.</param>
    /// <param name="pythonTraceback">The formatted Python traceback.</param>
    public PythonTaskException(string task, string pythonType, string pythonMessage, string pythonTraceback)
        : base($"Python task {task} raised {pythonType}: {pythonMessage}")
    {
        Task = task;
        PythonType = pythonType;
        PythonMessage = pythonMessage;
        PythonTraceback = pythonTraceback;
    }

    /// <summary>The task reference (<c>module:function</c>).</summary>
    public string Task { get; }

    /// <summary>The Python exception type, e.g. <c>ValueError</c> (qualified for non-builtins).</summary>
    public string PythonType { get; }

    /// <summary>The Python exception's message.</summary>
    public string PythonMessage { get; }

    /// <summary>The formatted Python traceback.</summary>
    public string PythonTraceback { get; }

    /// <summary>The one mapping of a runner-reported Python error to the exception a task call throws.</summary>
    internal static PythonTaskException From(string task, PythonError error) => new(task, error.Type, error.Message, error.Traceback);

    /// <inheritdoc/>
    public override string ToString() => $"{base.ToString()}\n--- Python traceback ---\n{PythonTraceback}";
}
