using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public sealed class FileDigestCacheTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    /// <summary>A clock far enough ahead that freshly written files are outside the racy window.</summary>
    private sealed class LaterClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => DateTimeOffset.UtcNow.AddMinutes(1);
    }

    [Fact]
    public void Sha256_UnchangedFile_IsNotReadAgain()
    {
        var cache = new FileDigestCache(new LaterClock());
        var file = _tree.Write("a.txt", "hello");
        var first = cache.Sha256(file);
        var second = cache.Sha256(file);
        Assert.Equal(first, second);
        Assert.Equal(1, cache.FilesRead);
    }

    [Fact]
    public void Sha256_SameSizeEdit_IsSeen()
    {
        var cache = new FileDigestCache(new LaterClock());
        var file = _tree.Write("a.txt", "hello");
        var mtime = File.GetLastWriteTimeUtc(file);
        var first = cache.Sha256(file);
        File.WriteAllText(file, "jello");
        File.SetLastWriteTimeUtc(file, mtime); // forge the mtime back: inode/ctime still differ
        Assert.NotEqual(first, cache.Sha256(file));
        Assert.Equal(2, cache.FilesRead);
    }

    [Fact]
    public void Sha256_HardLinkToACachedFile_IsNotReadAgain()
    {
        // Entries are keyed by device and inode: a second path to the same bytes is the same entry.
        var cache = new FileDigestCache(new LaterClock());
        var file = _tree.Write("a.txt", "hello");
        var link = Path.Combine(Path.GetDirectoryName(file)!, "b.txt");
        using (var ln = System.Diagnostics.Process.Start("ln", [file, link]))
        {
            ln.WaitForExit();
        }

        Assert.Equal(cache.Sha256(file), cache.Sha256(link));
        Assert.Equal(1, cache.FilesRead);
    }

    [Fact]
    public void Sha256_FileReplacedByRenameWithSameSizeAndMtime_IsSeen()
    {
        var cache = new FileDigestCache(new LaterClock());
        var file = _tree.Write("a.txt", "hello");
        var first = cache.Sha256(file);
        var replacement = _tree.Write("a.txt.new", "jello");
        File.SetLastWriteTimeUtc(replacement, File.GetLastWriteTimeUtc(file));
        File.Move(replacement, file, overwrite: true);

        Assert.NotEqual(first, cache.Sha256(file));
        Assert.Equal(2, cache.FilesRead);
    }

    [Fact]
    public void Sha256_FileChangedWithinRacyWindow_IsNotCached()
    {
        var cache = new FileDigestCache(TimeProvider.System);
        var file = _tree.Write("fresh.txt", "just written");
        cache.Sha256(file);
        cache.Sha256(file);
        Assert.Equal(2, cache.FilesRead);
    }

    [Fact]
    public void Resolve_WarmInstallProject_ReadsNoFilesAndOneAfterAnEdit()
    {
        var pyproject = _tree.WriteWorkspace();
        for (var i = 0; i < 20; i++)
        {
            _tree.Write($"ws/src/workspace_app/m{i}.py", $"X = {i}\n");
        }

        var cache = new FileDigestCache(new LaterClock());
        var image = Image.FromDebianBase().WithUvProject(pyproject, installMode: UvInstallMode.InstallProject);
        var options = new ImageResolveOptions(ProjectTree.Config);
        var cold = image.Resolve(options, cache);
        var readCold = cache.FilesRead;
        Assert.True(readCold >= 24);
        Assert.Equal(cold.Tag, image.Resolve(options, cache).Tag);
        Assert.Equal(readCold, cache.FilesRead);
        _tree.Write("ws/src/workspace_app/m3.py", "X = 333\n");
        Assert.NotEqual(cold.Tag, image.Resolve(options, cache).Tag);
        Assert.Equal(readCold + 1, cache.FilesRead);
    }
}
