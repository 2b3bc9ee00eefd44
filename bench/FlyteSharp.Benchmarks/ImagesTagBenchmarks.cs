using BenchmarkDotNet.Attributes;
using FlyteSharp.Configuration;
using FlyteSharp.Images;

namespace FlyteSharp.Benchmarks;

/// <summary>
/// Tagging an <see cref="UvInstallMode.InstallProject"/> image over a generated 5,000-file project, cold
/// (empty digest cache: every file is read and hashed) and warm (same process, cache filled: files are
/// only stat'ed — length, mtime, ctime, inode — and not read). Run:
/// <c>dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- --filter '*ImagesTag*'</c>
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class ImagesTagBenchmarks
{
    private const int FileCount = 5_000;
    private string _root = "";
    private Image _image = null!;
    private ImageResolveOptions _options = null!;
    private FileDigestCache _cache = null!;

    [GlobalSetup]
    public void Setup()
    {
        _root = Directory.CreateTempSubdirectory("flytesharp-bench-").FullName;
        File.WriteAllText(Path.Combine(_root, "pyproject.toml"), "[project]\nname = \"bench\"\nversion = \"0.1.0\"\n");
        for (var i = 0; i < FileCount - 1; i++)
        {
            var dir = Path.Combine(_root, "src", "bench", $"pkg{i / 100:D2}");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, $"module_{i:D4}.py"), $"# generated module {i}\nVALUE = {i}\n" + new string('x', 2_000) + "\n");
        }

        // Files changed within the racy window are never cached; let the fresh tree age past it.
        Thread.Sleep(FileDigestCache.RacyWindow + TimeSpan.FromMilliseconds(200));
        _image = Image.FromDebianBase().WithUvProject(Path.Combine(_root, "pyproject.toml"), installMode: UvInstallMode.InstallProject);
        _options = new ImageResolveOptions(new FlyteConfig());
        _cache = new FileDigestCache(TimeProvider.System);

        // Prove the warm path reads nothing: one cold resolve, then a warm one must not read a single file.
        _image.Resolve(_options, _cache);
        var readCold = _cache.FilesRead;
        _image.Resolve(_options, _cache);
        var readWarm = _cache.FilesRead - readCold;
        Console.WriteLine($"// files read: cold {readCold}, warm {readWarm}");
        if (readCold < FileCount || readWarm != 0)
        {
            throw new InvalidOperationException($"expected a cold resolve to read {FileCount} files and a warm one none, got {readCold} and {readWarm}");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [IterationSetup(Target = nameof(Cold))]
    public void ClearCache() => _cache.Clear();

    [Benchmark(Baseline = true, Description = "cold: read and hash 5,000 files")]
    public string Cold() => _image.Resolve(_options, _cache).Tag;

    [Benchmark(Description = "warm: stat 5,000 files, read none")]
    public string Warm() => _image.Resolve(_options, _cache).Tag;
}
