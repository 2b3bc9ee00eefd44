namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>A temporary directory deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    /// <summary>Creates a fresh directory under the system temp folder.</summary>
    public TempDir() => Directory.CreateDirectory(Path);

    /// <summary>The directory's absolute path.</summary>
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flytesharp-it-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>A path inside the directory.</summary>
    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
