namespace FlyteSharp.Runner;

/// <summary>The Python runner script FlyteSharp ships: embedded in the library, copied into images and local sandboxes.</summary>
internal static class PythonRunnerScript
{
    /// <summary>File name of the runner.</summary>
    public const string FileName = "flytesharp_runner.py";

    /// <summary>Where images carry the runner.</summary>
    public const string ImagePath = "/opt/flytesharp/" + FileName;

    private static readonly Lazy<byte[]> Content = new(() =>
    {
        using var stream = typeof(PythonRunnerScript).Assembly.GetManifestResourceStream(FileName)
            ?? throw new InvalidOperationException($"embedded resource {FileName} is missing from the FlyteSharp assembly");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    });

    /// <summary>The runner's bytes.</summary>
    public static byte[] Bytes => Content.Value;
}
