namespace FlyteSharp.Execution.Controller;

/// <summary>A request the controller refuses: the status and the <c>error</c> object it replies with.</summary>
internal sealed class ControllerHttpException : Exception
{
    public ControllerHttpException(int status, string type, string message)
        : base(message)
    {
        Status = status;
        Type = type;
    }

    /// <summary>The HTTP status.</summary>
    public int Status { get; }

    /// <summary>The error's type (one of <c>ControllerProtocol.ErrorTypes</c>).</summary>
    public string Type { get; }
}
