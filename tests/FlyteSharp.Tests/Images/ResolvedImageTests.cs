using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public sealed class ResolvedImageTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Resolve_SourceFolderWithFileSymlinkLeadingOutside_ThrowsNamingLinkAndTarget()
    {
        _tree.Write("lib/pkg/mod.py", "x = 1\n");
        _tree.Write("home/.ssh/id_rsa", "PRIVATE KEY");
        File.CreateSymbolicLink(_tree.Path("lib/pkg/key"), _tree.Path("home/.ssh/id_rsa"));

        var ex = Assert.Throws<FlyteSharpException>(() => ProjectTree.Resolve(Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/pkg"))));

        Assert.Contains($"'key' is a symbolic link to '{_tree.Path("home/.ssh/id_rsa")}', outside the folder being copied", ex.Message);
        Assert.Equal(_tree.Path("lib/pkg/key"), ex.File);
        Assert.Contains(".dockerignore", ex.Fix);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Resolve_SourceFolderWithInsideSymlink_CopiesTargetContentAndIgnoredOutsideLinkIsSkipped()
    {
        _tree.Write("lib/pkg/real.py", "x = 1\n");
        _tree.Write("outside.txt", "secret");
        File.CreateSymbolicLink(_tree.Path("lib/pkg/alias.py"), "real.py");
        File.CreateSymbolicLink(_tree.Path("lib/pkg/leak.txt"), _tree.Path("outside.txt"));
        _tree.Write("lib/pkg/.dockerignore", "leak.txt\n");

        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/pkg")));
        var dir = _tree.Path("out/context");
        await resolved.WriteBuildContextAsync(dir, TestContext.Current.CancellationToken);

        var alias = Directory.EnumerateFiles(dir, "alias.py", SearchOption.AllDirectories).Single();
        Assert.Null(new FileInfo(alias).LinkTarget);
        Assert.Equal("x = 1\n", await File.ReadAllTextAsync(alias, TestContext.Current.CancellationToken));
        Assert.Empty(Directory.EnumerateFiles(dir, "leak.txt", SearchOption.AllDirectories));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task WriteBuildContextAsync_FileReplacedBySymlinkAfterResolve_RefusesAndLeavesNothing()
    {
        _tree.Write("lib/pkg/mod.py", "x = 1\n");
        _tree.Write("home/.ssh/id_rsa", "PRIVATE KEY");
        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/pkg")));
        File.Delete(_tree.Path("lib/pkg/mod.py"));
        File.CreateSymbolicLink(_tree.Path("lib/pkg/mod.py"), _tree.Path("home/.ssh/id_rsa"));
        var dir = _tree.Path("out/context");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => resolved.WriteBuildContextAsync(dir, TestContext.Current.CancellationToken));

        Assert.Contains("was replaced by a symbolic link", ex.Message);
        Assert.False(Directory.Exists(dir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_tree.Path("out")));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task WriteBuildContextAsync_WritesDockerfileAndExactlyTheContextFiles()
    {
        _tree.WriteSiblings();
        var script = _tree.Write("sib/tools/run.sh", "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithUvProject(_tree.Path("sib/my_app/pyproject.toml")).WithSourceFile(script));
        var dir = _tree.Path("out/context");
        await resolved.WriteBuildContextAsync(dir, TestContext.Current.CancellationToken);
        var written = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(resolved.ContextFiles.Order(StringComparer.Ordinal), written);
        Assert.Equal(resolved.Dockerfile, await File.ReadAllTextAsync(Path.Combine(dir, "Dockerfile"), TestContext.Current.CancellationToken));
        Assert.Equal(await File.ReadAllTextAsync(_tree.Path("sib/my_lib/src/my_lib/stats.py"), TestContext.Current.CancellationToken),
            await File.ReadAllTextAsync(Path.Combine(dir, ".flytesharp/layers/1-uv/my_lib/src/my_lib/stats.py"), TestContext.Current.CancellationToken));
        Assert.True((File.GetUnixFileMode(Path.Combine(dir, ".flytesharp/layers/2-file/run.sh")) & UnixFileMode.UserExecute) != 0);
    }

    [Fact]
    public async Task WriteBuildContextAsync_NonEmptyDirectory_ThrowsAndLeavesItAlone()
    {
        var existing = _tree.Write("busy/keep.txt", "mine");
        var resolved = ProjectTree.Resolve(Image.FromDebianBase());
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => resolved.WriteBuildContextAsync(_tree.Path("busy"), TestContext.Current.CancellationToken));
        Assert.Contains("not empty", ex.Message);
        Assert.Equal(["keep.txt"], Directory.EnumerateFileSystemEntries(_tree.Path("busy")).Select(Path.GetFileName));
        Assert.True(File.Exists(existing));
        Assert.DoesNotContain(Directory.EnumerateDirectories(_tree.Root), d => Path.GetFileName(d).Contains(".tmp-"));
    }

    [Fact]
    public async Task WriteBuildContextAsync_SourceVanished_LeavesNoHalfWrittenDirectory()
    {
        var lib = _tree.Write("lib/pkg/a.py", "A = 1\n");
        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/pkg")));
        File.Delete(lib);
        await Assert.ThrowsAnyAsync<IOException>(() => resolved.WriteBuildContextAsync(_tree.Path("ctx"), TestContext.Current.CancellationToken));
        Assert.False(Directory.Exists(_tree.Path("ctx")));
        Assert.DoesNotContain(Directory.EnumerateDirectories(_tree.Root), d => Path.GetFileName(d).Contains(".tmp-"));
    }
}
