using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using FlyteSharp.Bundles;

namespace FlyteSharp.Tests.Bundles;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class CodeBundlerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void MakeProject(TempTree t)
    {
        t.Write("pkg/__init__.py", "");
        t.Write("pkg/core.py", "def f():\n    return 1\n");
        t.Write("pkg/data/table.csv", string.Join("\n", Enumerable.Range(0, 2000).Select(i => $"{i},{i * i}")));
        t.Write("pkg/" + new string('d', 60) + "/" + new string('n', 70) + ".py", "long = True\n");
        var script = t.Write("tools/run.sh", "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_111_101); // 0775: stored as 0755
        t.Write("pkg/__pycache__/core.cpython-311.pyc", "junk");
    }

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
    }

    [Fact]
    public async Task CreateAsync_SameTreeAfterMtimeAndOwnerChange_IsByteIdentical()
    {
        using var t = new TempTree();
        using var cache1 = new TempTree();
        using var cache2 = new TempTree();
        MakeProject(t);

        var first = await CodeBundler.CreateAsync(t.Root, new BundleOptions { CacheDirectory = cache1.Root }, Ct);

        foreach (var file in Directory.EnumerateFiles(t.Root, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        }

        Run("chown", "-R", "1234:4321", t.Root);
        Assert.Equal(1234, (int)GetOwner(Path.Combine(t.Root, "pkg", "core.py")));

        var second = await CodeBundler.CreateAsync(t.Root, new BundleOptions { CacheDirectory = cache2.Root }, Ct);

        Assert.Equal(first.Digest, second.Digest);
        Assert.Equal(await File.ReadAllBytesAsync(first.ArchivePath, Ct), await File.ReadAllBytesAsync(second.ArchivePath, Ct));
        Assert.Equal(5, first.FileCount);
        Assert.Equal(new FileInfo(first.ArchivePath).Length, first.Bytes);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(first.ArchivePath, Ct))), first.Digest);
    }

    private static long GetOwner(string path)
    {
        var psi = new ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return long.Parse(output.Trim());
    }

    [Fact]
    public async Task CreateAsync_SameFilesInDifferentDirectories_SameDigest()
    {
        using var a = new TempTree();
        using var b = new TempTree();
        using var cache = new TempTree();
        MakeProject(a);
        MakeProject(b);
        var options = new BundleOptions { CacheDirectory = cache.Root };
        Assert.Equal((await CodeBundler.CreateAsync(a.Root, options, Ct)).Digest, (await CodeBundler.CreateAsync(b.Root, options, Ct)).Digest);
    }

    [Fact]
    public async Task CreateAsync_OneFileEdited_ChangesDigest()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        var options = new BundleOptions { CacheDirectory = cache.Root };
        var before = await CodeBundler.CreateAsync(t.Root, options, Ct);

        t.Write("pkg/core.py", "def f():\n    return 2\n"); // same size, different byte
        var after = await CodeBundler.CreateAsync(t.Root, options, Ct);

        Assert.NotEqual(before.Digest, after.Digest);
        Assert.True(File.Exists(before.ArchivePath));
        Assert.True(File.Exists(after.ArchivePath));
    }

    [Fact]
    public async Task CreateAsync_ExecutableBitChanged_ChangesDigest()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        var options = new BundleOptions { CacheDirectory = cache.Root };
        var before = await CodeBundler.CreateAsync(t.Root, options, Ct);
        File.SetUnixFileMode(t.PathOf("pkg/core.py"), (UnixFileMode)0b111_101_101);
        Assert.NotEqual(before.Digest, (await CodeBundler.CreateAsync(t.Root, options, Ct)).Digest);
    }

    [Fact]
    public async Task CreateAsync_Archive_HasNormalizedHeadersAndSortedEntries()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        var bundle = await CodeBundler.CreateAsync(t.Root, new BundleOptions { CacheDirectory = cache.Root }, Ct);

        var bytes = await File.ReadAllBytesAsync(bundle.ArchivePath, Ct);
        Assert.Equal([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff], bytes[..10]); // gzip: no name, mtime 0, OS unknown

        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var entries = new List<TarEntry>();
        while (reader.GetNextEntry(copyData: true) is { } e)
        {
            entries.Add(e);
        }

        var names = entries.Select(e => e.Name).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Equal(BundleFiles.Select(t.Root).Select(f => f.RelativePath), names);
        Assert.Contains(names, n => n.Length > 100); // GNU long name round-trips
        Assert.All(entries, e =>
        {
            var g = Assert.IsType<GnuTarEntry>(e);
            Assert.Equal(TarEntryType.RegularFile, e.EntryType);
            Assert.Equal(0, g.Uid);
            Assert.Equal(0, g.Gid);
            Assert.Equal("", g.UserName);
            Assert.Equal("", g.GroupName);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(DeterministicTarWriter.FixedMTime), e.ModificationTime);
        });
        Assert.Equal((UnixFileMode)0b111_101_101, entries.Single(e => e.Name == "tools/run.sh").Mode);
        Assert.Equal((UnixFileMode)0b110_100_100, entries.Single(e => e.Name == "pkg/core.py").Mode);
        using var content = new StreamReader(entries.Single(e => e.Name == "pkg/core.py").DataStream!);
        Assert.Equal("def f():\n    return 1\n", await content.ReadToEndAsync(Ct));
    }

    [Fact]
    public async Task CreateAsync_Archive_IsReadByGnuTar()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        using var output = new TempTree();
        MakeProject(t);
        var bundle = await CodeBundler.CreateAsync(t.Root, new BundleOptions { CacheDirectory = cache.Root }, Ct);

        Run("tar", "-xzf", bundle.ArchivePath, "-C", output.Root);

        foreach (var file in BundleFiles.Select(t.Root))
        {
            Assert.Equal(await File.ReadAllBytesAsync(file.FullPath, Ct), await File.ReadAllBytesAsync(output.PathOf(file.RelativePath), Ct));
        }
    }

    [Fact]
    public async Task CreateAsync_UnchangedTree_ReturnsSameDigestWithoutReadingFiles()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        var read = new List<string>();
        var options = new BundleOptions { CacheDirectory = cache.Root, FileRead = read.Add };
        var cold = await CodeBundler.CreateAsync(t.Root, options, Ct);
        Assert.Equal(5, read.Count);
        var archiveWritten = File.GetLastWriteTimeUtc(cold.ArchivePath);

        // Past the racy window every fingerprint is trusted: no file is opened again.
        await Task.Delay(TimeSpan.FromSeconds(2.1), Ct);
        await CodeBundler.CreateAsync(t.Root, options, Ct); // re-hashes the files that were racy at the first build, then trusts them
        read.Clear();
        var warm = await CodeBundler.CreateAsync(t.Root, options, Ct);

        Assert.Empty(read);
        Assert.Equal(cold, warm);
        Assert.Equal(archiveWritten, File.GetLastWriteTimeUtc(warm.ArchivePath));
    }

    [Fact]
    public async Task CreateAsync_RecentlyWrittenFiles_AreRehashedNotTrusted()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        // Timestamps at or after the index's write time are what the racy rule guards; moving them an hour past their
        // write keeps them there however slowly a loaded machine gets from here to the index write.
        foreach (var file in Directory.EnumerateFiles(t.Root, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddHours(1));
        }

        var read = new List<string>();
        var options = new BundleOptions { CacheDirectory = cache.Root, FileRead = read.Add };
        var cold = await CodeBundler.CreateAsync(t.Root, options, Ct);
        read.Clear();

        // Within the racy window a file's stat could hide a same-tick edit: the warm build must re-read it.
        var warm = await CodeBundler.CreateAsync(t.Root, options, Ct);

        Assert.Equal(cold.Digest, warm.Digest);
        Assert.NotEmpty(read);
    }

    [Fact]
    public async Task CreateAsync_SameSizeEditWithMtimeRestored_ChangesDigest()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        var options = new BundleOptions { CacheDirectory = cache.Root };
        var cold = await CodeBundler.CreateAsync(t.Root, options, Ct);
        await Task.Delay(TimeSpan.FromSeconds(2.1), Ct);
        await CodeBundler.CreateAsync(t.Root, options, Ct); // every entry now old enough to be trusted by stat alone

        // Same size, mtime put back: only ctime (which user space cannot set) shows the edit.
        var core = t.PathOf("pkg/core.py");
        var mtime = File.GetLastWriteTimeUtc(core);
        await File.WriteAllTextAsync(core, "def f():\n    return 2\n", Ct);
        File.SetLastWriteTimeUtc(core, mtime);
        var edited = await CodeBundler.CreateAsync(t.Root, options, Ct);

        Assert.NotEqual(cold.Digest, edited.Digest);
    }

    [Fact]
    public async Task CreateAsync_DamagedIndex_RebuildsSameDigest()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        var read = new List<string>();
        var options = new BundleOptions { CacheDirectory = cache.Root, FileRead = read.Add };
        var cold = await CodeBundler.CreateAsync(t.Root, options, Ct);
        var index = Assert.Single(Directory.GetFiles(Path.Combine(cache.Root, "index")));
        var bytes = await File.ReadAllBytesAsync(index, Ct);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(index, bytes, Ct);
        read.Clear();

        var again = await CodeBundler.CreateAsync(t.Root, options, Ct);

        Assert.Equal(cold.Digest, again.Digest);
        Assert.Equal(5, read.Count); // the damaged index was not trusted: every file was read again
    }

    [Fact]
    public async Task CreateAsync_FileAddedOrRemoved_Rebuilds()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        var options = new BundleOptions { CacheDirectory = cache.Root };
        var first = await CodeBundler.CreateAsync(t.Root, options, Ct);
        t.Write("pkg/new.py", "");
        var second = await CodeBundler.CreateAsync(t.Root, options, Ct);
        File.Delete(t.PathOf("pkg/new.py"));
        var third = await CodeBundler.CreateAsync(t.Root, options, Ct);

        Assert.Equal(6, second.FileCount);
        Assert.NotEqual(first.Digest, second.Digest);
        Assert.Equal(first.Digest, third.Digest);
    }

    [Fact]
    public async Task CreateAsync_CachedArchiveDeleted_Rebuilds()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        var options = new BundleOptions { CacheDirectory = cache.Root };
        var first = await CodeBundler.CreateAsync(t.Root, options, Ct);
        File.Delete(first.ArchivePath);
        var second = await CodeBundler.CreateAsync(t.Root, options, Ct);
        Assert.Equal(first.Digest, second.Digest);
        Assert.True(File.Exists(second.ArchivePath));
    }

    [Fact]
    public async Task CreateAsync_OrdinaryRoot_DoesNotWarn()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        t.Write("a.py");
        var warnings = new List<string>();
        await CodeBundler.CreateAsync(t.Root, new BundleOptions { CacheDirectory = cache.Root, Warning = warnings.Add }, Ct);
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task CreateAsync_MissingRoot_ThrowsAndWritesNothing()
    {
        using var cache = new TempTree();
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => CodeBundler.CreateAsync("/no/such/root", new BundleOptions { CacheDirectory = cache.Root }, Ct));
        Assert.Equal("root_dir does not exist", ex.Reason);
        Assert.Empty(Directory.EnumerateFileSystemEntries(cache.Root));
    }

    [Fact]
    public async Task CreateAsync_Cancelled_LeavesNoTemporaryArchive()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        using var cts = new CancellationTokenSource();
        var options = new BundleOptions { CacheDirectory = cache.Root, Progress = new SyncProgress(_ => cts.Cancel()) };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CodeBundler.CreateAsync(t.Root, options, cts.Token));
        Assert.Empty(Directory.EnumerateFiles(cache.Root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task CreateAsync_BackslashInAFileName_RefusedBeforeAnyArchiveIsWritten()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        MakeProject(t);
        var odd = t.Write(@"pkg\helpers.py", "X = 1\n");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => CodeBundler.CreateAsync(t.Root, new BundleOptions { CacheDirectory = cache.Root }, Ct));

        Assert.Equal(odd, ex.File);
        Assert.Contains("backslash", ex.Reason);
        Assert.Empty(Directory.EnumerateFiles(cache.Root, "*", SearchOption.AllDirectories));
    }

    /// <summary>Round trip: odd but legal names the bundler accepts must unpack, the same, with both extractors.</summary>
    [Fact]
    public async Task CreateAsync_OddButLegalNames_UnpackWithBothExtractors()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        using var work = new TempTree();
        string[] names =
        [
            "with space.py", "ünïcødé/ファイル.py", "1:not-a-drive.txt", "pkg/c:not-a-drive.txt", "-leading-dash", "tab\there",
            "new\nline", "'quote\".txt", "..dots", "dots..", ".hidden", string.Concat(Enumerable.Repeat("long-directory/", 12)) + "f.py",
        ];
        foreach (var name in names)
        {
            t.Write(name, name);
        }

        var bundle = await CodeBundler.CreateAsync(t.Root, new BundleOptions { CacheDirectory = cache.Root }, Ct);
        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, work.PathOf("cs"), cancellationToken: Ct);
        var runner = await Execution.Python.RunnerExtraction.FetchBundleAsync(bundle.ArchivePath, bundle.Digest, work.PathOf("py"),
            ExtractionLimits.Default.MaxEntries, ExtractionLimits.Default.MaxTotalBytes, Ct);

        Assert.False(runner.Refused, runner.Message);
        Assert.All(names, name =>
        {
            Assert.Equal(name, File.ReadAllText(Path.Combine(work.PathOf("cs"), name)));
            Assert.Equal(name, File.ReadAllText(Path.Combine(work.PathOf("py"), name)));
        });
    }

    [Fact]
    public async Task CreateAsync_FilesOverTheExtractionSizeCap_RefusedNamingTheLargest()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        t.Write("pkg/mod.py");
        using (var big = new FileStream(t.Write("data/huge.bin", ""), FileMode.Open))
        {
            big.SetLength(ExtractionLimits.Default.MaxTotalBytes); // sparse: no disk used, and never read
        }

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => CodeBundler.CreateAsync(t.Root, new BundleOptions { CacheDirectory = cache.Root }, Ct));

        Assert.Equal(t.Root, ex.File);
        Assert.Contains("every run would refuse it (largest: 'data/huge.bin'", ex.Reason);
        Assert.Empty(Directory.EnumerateFiles(cache.Root, "*", SearchOption.AllDirectories));
    }

    private sealed class SyncProgress(Action<BundleProgress> action) : IProgress<BundleProgress>
    {
        public void Report(BundleProgress value) => action(value);
    }
}
