using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using FlyteSharp.Bundles;
using FlyteSharp.Tests.Execution.Python;

namespace FlyteSharp.Tests.Bundles;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class BundleExtractorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<CodeBundle> BundleOf(TempTree tree, TempTree cache)
    {
        tree.Write("app/main.py", "print('hi')\n");
        tree.Write("app/lib/util.py", "X = 1\n");
        File.SetUnixFileMode(tree.Write("run.sh", "#!/bin/sh\n"), (UnixFileMode)0b111_101_101);
        return await CodeBundler.CreateAsync(tree.Root, new BundleOptions { CacheDirectory = cache.Root }, Ct);
    }

    /// <summary>Writes a gzip'd tar made by <paramref name="write"/> and returns its digest (correct, so the entry checks are what refuses it).</summary>
    private static string Craft(string path, Action<TarWriter> write)
    {
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Gnu))
        {
            write(tar);
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
    }

    private static GnuTarEntry File_(string name, string content = "evil")
    {
        return new GnuTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) };
    }

    [Fact]
    public async Task ExtractAsync_ValidBundle_RestoresFilesModesAndMarker()
    {
        using var tree = new TempTree();
        using var cache = new TempTree();
        using var work = new TempTree();
        var bundle = await BundleOf(tree, cache);
        var dest = Path.Combine(work.Root, "bundle");

        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, dest, cancellationToken: Ct);

        Assert.Equal("print('hi')\n", await File.ReadAllTextAsync(Path.Combine(dest, "app", "main.py"), Ct));
        Assert.Equal("X = 1\n", await File.ReadAllTextAsync(Path.Combine(dest, "app", "lib", "util.py"), Ct));
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(dest, "run.sh")));
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(Path.Combine(dest, "app", "main.py")));
        Assert.Equal(bundle.Digest, (await File.ReadAllTextAsync(Path.Combine(dest, BundleExtractor.MarkerFileName), Ct)).Trim());
        Assert.Equal(["bundle"], Directory.EnumerateFileSystemEntries(work.Root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ExtractAsync_EightConcurrentExtractionsIntoOneDestination_AllSucceed()
    {
        using var tree = new TempTree();
        using var cache = new TempTree();
        using var work = new TempTree();
        var bundle = await BundleOf(tree, cache);
        var dest = Path.Combine(work.Root, "shared");
        using var start = new ManualResetEventSlim();

        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            start.Wait(Ct);
            await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, dest, cancellationToken: Ct);
        }, Ct)).ToList();
        start.Set();
        await Task.WhenAll(tasks);

        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.Equal("print('hi')\n", await File.ReadAllTextAsync(Path.Combine(dest, "app", "main.py"), Ct));
        Assert.Equal(["shared"], Directory.EnumerateFileSystemEntries(work.Root).Select(Path.GetFileName)); // no temp siblings left
    }

    [Fact]
    public async Task ExtractAsync_AlreadyExtracted_IsANoOp()
    {
        using var tree = new TempTree();
        using var cache = new TempTree();
        using var work = new TempTree();
        var bundle = await BundleOf(tree, cache);
        var dest = Path.Combine(work.Root, "b");
        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, dest, cancellationToken: Ct);
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(dest, "app", "main.py"));

        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, dest, cancellationToken: Ct);

        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(dest, "app", "main.py")));
    }

    [Fact]
    public async Task ExtractAsync_EmptyDestinationDirectory_IsReplaced()
    {
        using var tree = new TempTree();
        using var cache = new TempTree();
        using var work = new TempTree();
        var bundle = await BundleOf(tree, cache);
        var dest = work.Dir("empty");
        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, dest, cancellationToken: Ct);
        Assert.True(File.Exists(Path.Combine(dest, "run.sh")));
    }

    [Fact]
    public async Task ExtractAsync_DestinationHoldsOtherFiles_ThrowsAndKeepsThem()
    {
        using var tree = new TempTree();
        using var cache = new TempTree();
        using var work = new TempTree();
        var bundle = await BundleOf(tree, cache);
        work.Write("dest/precious.txt", "keep");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, work.PathOf("dest"), cancellationToken: Ct));

        Assert.Contains("does not hold this bundle", ex.Reason);
        Assert.Equal(["precious.txt"], Directory.EnumerateFileSystemEntries(work.PathOf("dest")).Select(Path.GetFileName));
        Assert.Equal(["dest"], Directory.EnumerateFileSystemEntries(work.Root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ExtractAsync_DigestMismatch_ThrowsBeforeWritingAnything()
    {
        using var tree = new TempTree();
        using var cache = new TempTree();
        using var work = new TempTree();
        var bundle = await BundleOf(tree, cache);
        var wrong = "sha256:" + new string('0', 64);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => BundleExtractor.ExtractAsync(bundle.ArchivePath, wrong, work.PathOf("d"), cancellationToken: Ct));

        Assert.Contains("digest mismatch", ex.Reason);
        Assert.Equal(bundle.ArchivePath, ex.File);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work.Root));
    }

    [Fact]
    public async Task ExtractAsync_TruncatedArchiveWithItsOwnDigest_ThrowsCorruptAndWritesNothing()
    {
        using var tree = new TempTree();
        using var cache = new TempTree();
        using var work = new TempTree();
        tree.Write("big.bin", Convert.ToBase64String(RandomNumberGenerator.GetBytes(200_000)));
        var bundle = await CodeBundler.CreateAsync(tree.Root, new BundleOptions { CacheDirectory = cache.Root }, Ct);
        var truncated = work.Write("t.tar.gz");
        await File.WriteAllBytesAsync(truncated, (await File.ReadAllBytesAsync(bundle.ArchivePath, Ct))[..(int)(bundle.Bytes / 2)], Ct);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(truncated, Ct)));

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => BundleExtractor.ExtractAsync(truncated, digest, work.PathOf("d"), cancellationToken: Ct));

        Assert.Contains("corrupt or truncated", ex.Reason);
        Assert.Equal(["t.tar.gz"], Directory.EnumerateFileSystemEntries(work.Root).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("this is not gzip", "not a gzip file: it starts with bytes 7468, not 1F8B")]
    [InlineData("PK\u0003\u0004 a zip", "not a gzip file: it starts with bytes 504B, not 1F8B")]
    [InlineData("", "not a gzip file: the archive is empty")]
    public async Task ExtractAsync_NotAGzipFile_SaysNotGzipAndWritesNothing(string content, string reason)
    {
        using var work = new TempTree();
        var file = work.Write("x.tar.gz", content);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file, Ct)));

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => BundleExtractor.ExtractAsync(file, digest, work.PathOf("d"), cancellationToken: Ct));

        Assert.StartsWith(reason, ex.Reason);
        Assert.DoesNotContain("compression method", ex.Message);
        Assert.Equal(file, ex.File);
        Assert.Equal(["x.tar.gz"], Directory.EnumerateFileSystemEntries(work.Root).Select(Path.GetFileName));
    }

    public static TheoryData<string> RefusedCases() => ExtractionCorpus.Refused();

    public static TheoryData<string> AcceptedCases() => ExtractionCorpus.Accepted();

    /// <summary>
    /// The shared corpus against both extractors: the C# one in-process, the Python runner's <c>fetch_bundle</c> under
    /// the real python3 (what every container and pod runs). Both must refuse, and leave nothing inside or outside.
    /// </summary>
    [Theory]
    [MemberData(nameof(RefusedCases))]
    public async Task ExtractAsync_MaliciousArchive_BothExtractorsRefuseAndWriteNothingInsideOrOutside(string kind)
    {
        using var work = new TempTree();
        var outside = work.Dir("outside");
        var archive = Path.Combine(work.Root, "evil.tar.gz");
        var digest = ExtractionCorpus.Write(kind, archive, outside);
        var limits = new ExtractionLimits { MaxEntries = ExtractionCorpus.MaxEntries, MaxTotalBytes = ExtractionCorpus.MaxTotalBytes };

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => BundleExtractor.ExtractAsync(archive, digest, work.PathOf("dest-cs"), limits, Ct));
        var runner = await RunnerExtraction.FetchBundleAsync(archive, digest, work.PathOf("dest-py"), ExtractionCorpus.MaxEntries, ExtractionCorpus.MaxTotalBytes, Ct);

        Assert.Contains("refused to extract", ex.Reason);
        Assert.Equal(archive, ex.File);
        Assert.True(runner.Refused, $"the Python runner unpacked '{kind}', which the C# extractor refuses ({ex.Reason})");
        Assert.Contains("refused to extract", runner.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Equal(["evil.tar.gz", "outside"], Directory.EnumerateFileSystemEntries(work.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    /// <summary>The same corpus's well-formed archives: both extractors unpack them, to the same tree.</summary>
    [Theory]
    [MemberData(nameof(AcceptedCases))]
    public async Task ExtractAsync_WellFormedArchive_BothExtractorsUnpackTheSameTree(string kind)
    {
        using var work = new TempTree();
        var outside = work.Dir("outside");
        var archive = Path.Combine(work.Root, "ok.tar.gz");
        var digest = ExtractionCorpus.Write(kind, archive, outside);
        var limits = new ExtractionLimits { MaxEntries = ExtractionCorpus.MaxEntries, MaxTotalBytes = ExtractionCorpus.MaxTotalBytes };

        await BundleExtractor.ExtractAsync(archive, digest, work.PathOf("dest-cs"), limits, Ct);
        var runner = await RunnerExtraction.FetchBundleAsync(archive, digest, work.PathOf("dest-py"), ExtractionCorpus.MaxEntries, ExtractionCorpus.MaxTotalBytes, Ct);

        Assert.False(runner.Refused, runner.Message);
        var tree = Tree(work.PathOf("dest-cs"));
        Assert.Contains("ok.py file 644 fine", tree);
        Assert.Equal(tree, Tree(work.PathOf("dest-py")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    /// <summary>Every entry under <paramref name="root"/> (but the C# extractor's marker): path, kind, mode and content.</summary>
    private static List<string> Tree(string root) =>
        Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Select(p => (Path: Path.GetRelativePath(root, p).Replace(Path.DirectorySeparatorChar, '/'), Info: new FileInfo(p)))
            .Where(e => e.Path != BundleExtractor.MarkerFileName)
            .Select(e => e.Info.LinkTarget is not null ? $"{e.Path} link"
                : e.Info.Attributes.HasFlag(FileAttributes.Directory) ? $"{e.Path} dir"
                : $"{e.Path} file {Convert.ToString((int)e.Info.UnixFileMode & 0b111_101_101, 8)} {File.ReadAllText(e.Info.FullName)}")
            .Order(StringComparer.Ordinal)
            .ToList();

    [Fact]
    public async Task ExtractAsync_ArchiveMadeByOtherTool_WithDirectoriesAndDotSlash_Extracts()
    {
        using var work = new TempTree();
        var archive = Path.Combine(work.Root, "ok.tar.gz");
        var digest = Craft(archive, tar =>
        {
            tar.WriteEntry(new GnuTarEntry(TarEntryType.Directory, "./pkg/"));
            tar.WriteEntry(File_("./pkg/a.py", "a"));
        });
        await BundleExtractor.ExtractAsync(archive, digest, work.PathOf("d"), cancellationToken: Ct);
        Assert.Equal("a", await File.ReadAllTextAsync(work.PathOf("d/pkg/a.py"), Ct));
    }

    [Fact]
    public async Task ExtractAsync_MalformedDigest_ThrowsClearError()
    {
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => BundleExtractor.ExtractAsync("x", "md5:abc", "/tmp/never", cancellationToken: Ct));
        Assert.Contains("not a sha256 digest", ex.Reason);
    }
}
