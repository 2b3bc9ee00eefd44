namespace FlyteSharp.Images;

// SKELETON: the images work replaces this file with the real layer stack.

/// <summary>A frozen, content-addressed stack of image layers.</summary>
public sealed class Image
{
    private Image(string pythonVersion) => PythonVersion = pythonVersion;

    /// <summary>The Python version of the base.</summary>
    public string PythonVersion { get; }

    /// <summary>A Debian base with Python.</summary>
    public static Image FromDebianBase(string pythonVersion = "3.12") => new(pythonVersion);
}
