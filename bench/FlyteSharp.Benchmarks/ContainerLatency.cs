using System.Diagnostics;
using System.Globalization;
using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Images;
using FlyteSharp.Processes;
using FlyteSharp.Tasks;

namespace FlyteSharp.Benchmarks;

/// <summary>
/// Edit-to-result latency in container mode after a one-line Python edit (bundle + upload + container start
/// + unpack + run), next to a bare <c>podman run</c> of the same image running the same function, in the same
/// process. Prints every iteration, the medians, the breakdown and the ratio. Run through bench/container-latency.sh.
/// </summary>
internal static class ContainerLatency
{
    public static async Task<int> RunAsync(string[] args)
    {
        var registry = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_REGISTRY")
            ?? throw new InvalidOperationException("set FLYTESHARP_BENCH_REGISTRY=host:port (bench/container-latency.sh starts one)");
        var baseImage = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_BASE_IMAGE") ?? "localhost/flytesharp-test/debian-python:bookworm";
        var iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
        var root = Directory.CreateTempSubdirectory("flytesharp-bench-").FullName;
        var src = Path.Combine(root, "src");
        Directory.CreateDirectory(Path.Combine(src, "app"));
        await File.WriteAllTextAsync(Path.Combine(src, "app", "__init__.py"), "");
        var config = new FlyteConfig
        {
            Home = Path.Combine(root, "home"),
            Registry = registry,
            ImageName = "flytesharp-bench/latency",
            PythonBaseImage = baseImage,
            InsecureRegistries = [registry],
            Builder = ImageBuilderKind.Podman,
        };
        var env = new TaskEnvironment("bench", Image.FromDebianBase("3.11").WithCodeBundle(), new Resources(Cpu: "1", Memory: "256Mi"));
        var add = env.PythonTask<int, int>("app.ops:add");
        var runtime = new FlyteRuntime(config with { RootDir = src });
        var options = new RunOptions { Mode = ExecutionMode.Container };
        var timings = new List<ContainerActionTimings>();
        ContainerPythonExecutor.ActionTimed += t => { lock (timings) { timings.Add(t); } };
        try
        {
            // Warm-up: builds (or finds) the image; not measured.
            await WriteFunctionAsync(src, 0);
            var warm = await runtime.Run(add, 1, options);
            await warm.GetOutputAsync();
            var uri = env.Image.Resolve(new ImageResolveOptions(runtime.Config, CopyStyle.All)).Uri;

            var rows = new List<Row>();
            for (var i = 1; i <= iterations; i++)
            {
                // One-line edit, then the measured edit-to-result path.
                await WriteFunctionAsync(src, i);
                lock (timings)
                {
                    timings.Clear();
                }

                var clock = Stopwatch.StartNew();
                var run = await runtime.Run(add, 1, options);
                var result = await run.GetOutputAsync();
                var total = clock.Elapsed;
                if (result != 1 + i)
                {
                    throw new InvalidOperationException($"iteration {i}: expected {1 + i}, got {result} (the edit did not reach the container)");
                }

                // Baseline: the same image and function with a bare podman run (code mounted, no FlyteSharp).
                clock.Restart();
                var bare = await CliProcess.RunAsync("podman", ["run", "--rm", "--cpus", "1", "--memory", "256m", "-v", $"{src}:/src:ro", uri,
                    "/opt/venv/bin/python", "-c", "import sys; sys.path.insert(0, '/src'); from app.ops import add; print(add(1))"]);
                var baseline = clock.Elapsed;
                if (!bare.Succeeded || bare.StandardOutput.Trim() != (1 + i).ToString(CultureInfo.InvariantCulture))
                {
                    throw new InvalidOperationException($"bare podman run failed: {bare.Combined}");
                }

                List<ContainerActionTimings> t;
                lock (timings)
                {
                    t = [.. timings];
                }

                var upload = Sum(t, "upload", x => x.Total);
                var describe = Sum(t, "describe", x => x.Total - x.ImageReady);
                var imageCheck = Sum(t, "describe", x => x.ImageReady) + Sum(t, "execute", x => x.ImageReady);
                var execute = t.Single(x => x.Kind == "execute");
                var row = new Row(total, baseline, imageCheck, upload, describe, execute.ContainerStart, execute.BundleUnpack, execute.Total - execute.ImageReady, execute.TaskRun,
                    execute.Teardown, total - upload - describe - Sum(t, "describe", x => x.ImageReady) - execute.Total);
                rows.Add(row);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"iteration {i}: edit-to-result {Ms(total)} ms, bare podman run {Ms(baseline)} ms, ratio {total / baseline:0.00}"));
            }

            Console.WriteLine();
            Console.WriteLine("median breakdown of edit-to-result (container mode, one-line Python edit):");
            Print("bundle build + store put + local extract + bookkeeping", rows.Select(r => r.Other));
            Print("image check (resolve tag + registry HEAD)", rows.Select(r => r.ImageCheck));
            Print("bundle upload by the executor (0: run stored it)", rows.Select(r => r.Upload));
            Print("pre-run signature check (local, from the bundle)", rows.Select(r => r.Describe));
            Print("  container start, begun beside the check (runtime + interpreter)", rows.Select(r => r.ContainerStart));
            Print("  bundle fetch + verify + unpack in container", rows.Select(r => r.Unpack));
            Print("after the check: inputs sent to the container until result", rows.Select(r => r.AfterCheck));
            Print("  task import + run", rows.Select(r => r.Task));
            Print("  reply to result (exit + removal run after it)", rows.Select(r => r.Teardown));
            Print("TOTAL edit-to-result", rows.Select(r => r.Total));
            Print("baseline: bare podman run of the same function", rows.Select(r => r.Baseline));
            var ratio = Median(rows.Select(r => r.Total)) / Median(rows.Select(r => r.Baseline));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"P6 ratio (median edit-to-result / median bare podman run): {ratio:0.00}   (goal <= 1.00)"));
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static Task WriteFunctionAsync(string src, int version) =>
        File.WriteAllTextAsync(Path.Combine(src, "app", "ops.py"), $"def add(x: int) -> int:\n    return x + {version}\n");

    private static TimeSpan Sum(IEnumerable<ContainerActionTimings> t, string kind, Func<ContainerActionTimings, TimeSpan> pick) =>
        t.Where(x => x.Kind == kind).Aggregate(TimeSpan.Zero, (a, x) => a + pick(x));

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static void Print(string label, IEnumerable<TimeSpan> values) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label,-66} {Ms(Median(values)),8} ms"));

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    private sealed record Row(TimeSpan Total, TimeSpan Baseline, TimeSpan ImageCheck, TimeSpan Upload, TimeSpan Describe, TimeSpan ContainerStart, TimeSpan Unpack, TimeSpan AfterCheck,
        TimeSpan Task, TimeSpan Teardown, TimeSpan Other);
}
