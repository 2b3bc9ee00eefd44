namespace FlyteSharp.Tests.Bundles;

/// <summary>A temporary directory tree for a test, deleted on dispose.</summary>
internal sealed class TempTree : IDisposable
{
    public TempTree()
    {
        Root = Path.Combine(Path.GetTempPath(), "flytesharp-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Path_(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public string Write(string relative, string content = "x")
    {
        var full = Path_(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public string Dir(string relative) => Directory.CreateDirectory(Path_(relative)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a test that left a read-only or busy file must not fail for it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
