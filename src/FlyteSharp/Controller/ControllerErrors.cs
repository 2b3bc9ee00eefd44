using System.Reflection;
using System.Runtime.ExceptionServices;

namespace FlyteSharp.Controller;

/// <summary>
/// Turns a failed child's error back into an exception on the worker's side: the same exception type and message the
/// in-process call would throw, where this process can make one (a loaded exception type with a <c>(string message)</c>
/// constructor; <see cref="FlyteSharpException"/>), with the child's stack trace attached as a remote stack trace.
/// The execution layer's mapping (<c>Execution.Controller.ChildErrors</c>) adds Python children's <c>PythonTaskException</c>.
/// </summary>
internal static class ControllerErrors
{
    /// <summary>The exception for a failed child.</summary>
    public static Exception Rehydrate(ControllerError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var exception = error.Kind == ControllerProtocol.ErrorKinds.Python
            ? new ChildTaskFailedException(error, $"Python task {error.Task} raised {error.Type}: {error.Message}")
            : Create(error.Type, error.Message) ?? new ChildTaskFailedException(error, $"{error.Type}: {error.Message}");
        return WithRemoteStackTrace(exception, error.Traceback);
    }

    /// <summary>Attaches the child's stack trace (shown by <see cref="Exception.ToString"/> and <see cref="Exception.StackTrace"/>).</summary>
    public static Exception WithRemoteStackTrace(Exception exception, string? traceback)
    {
        if (!string.IsNullOrEmpty(traceback))
        {
            ExceptionDispatchInfo.SetRemoteStackTrace(exception, traceback + Environment.NewLine + "--- in the driver (child action) ---" + Environment.NewLine);
        }

        return exception;
    }

    private static Exception? Create(string typeName, string message)
    {
        if (typeName == typeof(FlyteSharpException).FullName)
        {
            return new FlyteSharpException(message);
        }

        var type = FindType(typeName);
        if (type is null || !typeof(Exception).IsAssignableFrom(type) || type.IsAbstract || type.ContainsGenericParameters)
        {
            return null;
        }

        var constructor = type.GetConstructor(BindingFlags.Public | BindingFlags.Instance, [typeof(string)]);
        try
        {
            return constructor?.Invoke([message]) as Exception;
        }
        catch (TargetInvocationException)
        {
            return null;
        }
    }

    private static Type? FindType(string name)
    {
        if (Type.GetType(name, throwOnError: false) is { } found)
        {
            return found;
        }

        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (!assembly.IsDynamic && assembly.GetType(name, throwOnError: false) is { } type)
            {
                return type;
            }
        }

        return null;
    }
}
