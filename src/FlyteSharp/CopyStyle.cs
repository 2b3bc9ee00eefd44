namespace FlyteSharp;

/// <summary>How a deploy or run delivers the project's code to the container.</summary>
public enum CopyStyle
{
    /// <summary>Fast deploy (default): the code travels as a per-run bundle; <c>WithCodeBundle()</c> is a no-op.</summary>
    All = 0,

    /// <summary>Full build: <c>WithCodeBundle()</c> becomes a <c>COPY</c> of the bundle's files into the image. Requires a version.</summary>
    None = 1,
}
