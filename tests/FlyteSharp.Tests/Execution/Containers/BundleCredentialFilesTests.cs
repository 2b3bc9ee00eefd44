using FlyteSharp.Execution.Containers;

namespace FlyteSharp.Tests.Execution.Containers;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BundleCredentialFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flytesharp-creds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task RefreshAsync_MountedFile_SameInodeAndModeNewContentFreshFileGone()
    {
        // A container's bind mount holds the inode: only a write into that very file reaches it.
        var mounted = Path.Combine(_dir, "mounted.json");
        File.WriteAllText(mounted, "{\"authorization\": \"Basic b2xkLWFuZC1sb25nZXItdmFsdWU=\"}");
        File.SetUnixFileMode(mounted, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var inode = Inode(mounted);
        var fresh = Path.Combine(_dir, "fresh.json");

        await BundleCredentialFiles.RefreshAsync(mounted, async () =>
        {
            await File.WriteAllTextAsync(fresh, "{\"authorization\": \"Basic bmV3\"}");
            return fresh;
        });

        Assert.Equal("{\"authorization\": \"Basic bmV3\"}", File.ReadAllText(mounted)); // no tail of the longer old value
        Assert.Equal(inode, Inode(mounted));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(mounted));
        Assert.False(File.Exists(fresh));
    }

    [Fact]
    public async Task RefreshAsync_MountedFileGoneFromTheHost_LeftAloneAndTheFreshFileDeleted()
    {
        var fresh = Path.Combine(_dir, "fresh.json");

        await BundleCredentialFiles.RefreshAsync(Path.Combine(_dir, "gone", "mounted.json"), async () =>
        {
            await File.WriteAllTextAsync(fresh, "{\"authorization\": \"Basic bmV3\"}");
            return fresh;
        });

        Assert.False(File.Exists(fresh));
        Assert.False(Directory.Exists(Path.Combine(_dir, "gone")));
    }

    [Fact]
    public void KeepForSharedReplica_FileInARunSandbox_MovedUnderTheHomeInAPrivateFolder()
    {
        var sandbox = Directory.CreateDirectory(Path.Combine(_dir, "sandbox")).FullName;
        var written = Path.Combine(sandbox, "auth-1.json");
        File.WriteAllText(written, "{\"authorization\": \"Basic c2VjcmV0\"}");
        var home = Path.Combine(_dir, "home");

        var kept = BundleCredentialFiles.KeepForSharedReplica(written, home, "flytesharp-run-env-r1");
        Directory.Delete(sandbox, recursive: true); // the starting run ends; the shared replica stays

        Assert.Equal(Path.Combine(home, "replica-credentials", "flytesharp-run-env-r1.json"), kept);
        Assert.Equal("{\"authorization\": \"Basic c2VjcmV0\"}", File.ReadAllText(kept));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(kept)!));
        BundleCredentialFiles.Delete(kept);
        Assert.False(File.Exists(kept));
    }

    [Fact]
    public void Delete_FolderAlreadyGone_NoError()
    {
        BundleCredentialFiles.Delete(Path.Combine(_dir, "gone", "auth-1.json"));
        Assert.False(Directory.Exists(Path.Combine(_dir, "gone")));
    }

    private static ulong Inode(string path)
    {
        Assert.True(FlyteSharp.Files.UnixStat.TryStat(path, followLinks: false, out var info));
        return info.Inode;
    }
}
