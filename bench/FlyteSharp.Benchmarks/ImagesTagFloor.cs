using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FlyteSharp.Configuration;
using FlyteSharp.Images;

namespace FlyteSharp.Benchmarks;

/// <summary>
/// P3: the warm tag of an <see cref="UvInstallMode.InstallProject"/> image over a generated 5,000-file project, next to
/// the stat floor of the same tree measured in the same run (<c>find ROOT -printf '%s %T@ %i\n'</c>: one walk with one
/// stat per entry and nothing else). Run: <c>dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- images-tag-floor</c>.
/// Target: warm ≤ 1.5× floor.
/// </summary>
/// <remarks>
/// Wall time is the figure, but on a machine shared with other work it mixes in how the scheduler treats a short-lived
/// process (<c>find</c>) and a long-running one (this one); so the CPU time each side used (user + system, from
/// <c>getrusage</c>: the children's for <c>find</c>, this process's, every thread included, for the tag) is printed next to it.
/// </remarks>
public static partial class ImagesTagFloor
{
    private const int FileCount = 5_000;
    private const int Iterations = 25;

    // Untimed warm tags first: "warm" is the steady state of a process that tags again, not the JIT compiling the walk's code.
    // Methods called once per tag (Resolve, each layer's Apply, the selector) stay unoptimized until the runtime has counted
    // 30 calls to them, so fewer warm-ups would time tier-0 code.
    private const int WarmUps = 40;

    public static bool TryRun(string[] args)
    {
        if (args is not ["images-tag-floor", ..])
        {
            return false;
        }

        var root = Directory.CreateTempSubdirectory("flytesharp-bench-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(root, "pyproject.toml"), "[project]\nname = \"bench\"\nversion = \"0.1.0\"\n");
            for (var i = 0; i < FileCount - 1; i++)
            {
                var dir = Path.Combine(root, "src", "bench", $"pkg{i / 100:D2}");
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, $"module_{i:D4}.py"), $"# generated module {i}\nVALUE = {i}\n" + new string('x', 2_000) + "\n");
            }

            // Files changed within the racy window are never cached; let the fresh tree age past it.
            Thread.Sleep(FileDigestCache.RacyWindow + TimeSpan.FromMilliseconds(200));
            var image = Image.FromDebianBase().WithUvProject(Path.Combine(root, "pyproject.toml"), installMode: UvInstallMode.InstallProject);
            var options = new ImageResolveOptions(new FlyteConfig());
            var cache = new FileDigestCache(TimeProvider.System);
            var cold = Stopwatch.StartNew();
            var tag = image.Resolve(options, cache).Tag;
            cold.Stop();
            var readCold = cache.FilesRead;

            for (var i = 0; i < WarmUps; i++)
            {
                _ = image.Resolve(options, cache);
            }

            var floor = new List<TimeSpan>();
            var warm = new List<TimeSpan>();
            var (floorCpu, warmCpu) = (new List<TimeSpan>(), new List<TimeSpan>());
            for (var i = 0; i < Iterations; i++)
            {
                var children = CpuTime(RUsageChildren);
                floor.Add(Find(root));
                floorCpu.Add(CpuTime(RUsageChildren) - children);
                var self = CpuTime(RUsageSelf);
                var clock = Stopwatch.StartNew();
                var again = image.Resolve(options, cache).Tag;
                warm.Add(clock.Elapsed);
                warmCpu.Add(CpuTime(RUsageSelf) - self);
                if (again != tag)
                {
                    throw new InvalidOperationException("the warm tag differs from the cold one");
                }
            }

            var readWarm = cache.FilesRead - readCold;
            // Medians are the figure; minimums are printed too, since a shared machine's noise only ever adds time.
            Console.WriteLine($"P3 images tag, {FileCount} files, InstallProject ({WarmUps} untimed warm tags, then {Iterations} interleaved rounds; files read cold {readCold}, warm {readWarm})");
            Console.WriteLine($"  cold tag                    {Ms(cold.Elapsed),9}");
            Console.WriteLine($"  stat floor (find -printf)   median {Ms(Median(floor)),9}   min {Ms(floor.Min()),9}");
            Console.WriteLine($"  warm tag                    median {Ms(Median(warm)),9}   min {Ms(warm.Min()),9}");
            Console.WriteLine($"  warm / floor                median {Ratio(Median(warm) / Median(floor))}x   min {Ratio(warm.Min() / floor.Min())}x   (target <= 1.50x)");
            Console.WriteLine($"  cpu (user+sys) median       floor {Ms(Median(floorCpu)),9}   warm {Ms(Median(warmCpu)),9}   warm / floor {Ratio(Median(warmCpu) / Median(floorCpu))}x");
            Console.WriteLine($"  load average                {File.ReadAllText("/proc/loadavg").Trim()}");
            return true;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static TimeSpan Find(string root)
    {
        var start = new ProcessStartInfo("find", [root, "-printf", "%s %T@ %i\n"]) { RedirectStandardOutput = true };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return clock.Elapsed;
    }

    private const int RUsageSelf = 0, RUsageChildren = -1;

    // struct rusage starts with ru_utime and ru_stime (struct timeval: seconds, microseconds) on 64-bit Linux; 18 longs in all.
    private static TimeSpan CpuTime(int who)
    {
        Span<long> usage = stackalloc long[18];
        if (GetRUsage(who, ref MemoryMarshal.GetReference(usage)) != 0)
        {
            throw new InvalidOperationException("getrusage failed");
        }

        return TimeSpan.FromSeconds(usage[0] + usage[2]) + TimeSpan.FromMicroseconds(usage[1] + usage[3]);
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRUsage(int who, ref long usage);

    private static TimeSpan Median(List<TimeSpan> samples) => samples.Order().ElementAt(samples.Count / 2);

    private static string Ratio(double r) => r.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
