namespace FlyteSharp.Controller;

/// <summary>A child action failed with an exception this process cannot recreate by type: carries the child's error as reported.</summary>
internal sealed class ChildTaskFailedException : Exception
{
    public ChildTaskFailedException(ControllerError error, string message)
        : base(message)
    {
        Error = error;
    }

    /// <summary>The child's error as the driver reported it.</summary>
    public ControllerError Error { get; }
}
