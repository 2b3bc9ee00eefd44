namespace FlyteSharp.Tests;

/// <summary>A temporary directory tree for a test, deleted on dispose (shared by the test folders).</summary>
internal sealed class TempTree : IDisposable
{
    public TempTree(string prefix = "flytesharp-test-") => Root = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public string Write(string relative, string content = "x")
    {
        var full = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public string Dir(string relative) => Directory.CreateDirectory(PathOf(relative)).FullName;

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
