using System.Diagnostics;
using System.Globalization;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Benchmarks;

/// <summary>
/// P7: many calls of a trivial Python task in a reusable environment (container mode), next to the single-shot
/// container per-call cost and the local warm-interpreter cost, all measured in this one process; then the same number
/// of calls at once on 4 replicas against the sequential time. Prints the per-call breakdown and the driver's peak RSS.
/// Run through bench/reuse-latency.sh.
/// </summary>
internal static class ReuseLatency
{
    public static async Task<int> RunAsync(string[] args)
    {
        var registry = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_REGISTRY")
            ?? throw new InvalidOperationException("set FLYTESHARP_BENCH_REGISTRY=host:port (bench/reuse-latency.sh starts one)");
        var baseImage = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_BASE_IMAGE") ?? "localhost/flytesharp-test/debian-python:bookworm";
        var calls = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        var singleShotCalls = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
        var root = Directory.CreateTempSubdirectory("flytesharp-bench-").FullName;
        var src = Path.Combine(root, "src");
        Directory.CreateDirectory(Path.Combine(src, "app"));
        await File.WriteAllTextAsync(Path.Combine(src, "app", "__init__.py"), "");
        await File.WriteAllTextAsync(Path.Combine(src, "app", "ops.py"), "import time\n\ndef add(x: int) -> int:\n    return x + 1\n\ndef nap(x: int) -> int:\n    time.sleep(0.05)\n    return x + 1\n");
        var config = new FlyteConfig
        {
            Home = Path.Combine(root, "home"),
            Registry = registry,
            ImageName = "flytesharp-bench/reuse",
            PythonBaseImage = baseImage,
            InsecureRegistries = [registry],
            Builder = ImageBuilderKind.Podman,
        };
        var image = Image.FromDebianBase("3.11").WithCodeBundle();
        var resources = new Resources(Cpu: "1", Memory: "256Mi");
        var one = new TaskEnvironment("reuse1", image, resources, reuse: new ReusePolicy(Replicas: 1));
        var four = new TaskEnvironment("reuse4", image, resources, reuse: new ReusePolicy(Replicas: 4));
        var single = new TaskEnvironment("single", image, resources);
        var runtime = new FlyteRuntime(config with { RootDir = src });
        var timings = new List<ReplicaCallTimings>();
        ReusableEnvironments.CallTimed += t => { lock (timings) { timings.Add(t); } };
        try
        {
            // Warm-up: builds (or finds) the image; not measured.
            await MeasureAsync(runtime, one, "ops:add", ExecutionMode.Container, 1, concurrent: false, warmup: 0);
            var sleepy = new TaskEnvironment("sleepy4", image, resources, reuse: new ReusePolicy(Replicas: 4));
            var sleepy1 = new TaskEnvironment("sleepy1", image, resources, reuse: new ReusePolicy(Replicas: 1));
            Clear(timings);

            // Each measurement is one run; the replicas (or the local interpreter) are started by untimed warm-up calls in it.
            var cold = await MeasureAsync(runtime, one, "ops:add", ExecutionMode.Container, 1, concurrent: false, warmup: 0);

            // An untimed round first: the driver's code paths are then compiled by the JIT's optimizing tier in both
            // measurements, not only in the later ones (a cold first sequential round made its ratio look better).
            await MeasureAsync(runtime, one, "ops:add", ExecutionMode.Container, calls, concurrent: false, warmup: 1);
            await MeasureAsync(runtime, four, "ops:add", ExecutionMode.Container, calls, concurrent: true, warmup: 8);
            Clear(timings);

            // Sequential and concurrent interleaved, `rounds` times: a busy machine then slows both alike; medians are reported.
            var sequentials = new List<TimeSpan>();
            var concurrents = new List<TimeSpan>();
            var ratios = new List<double>();
            var seq = new List<ReplicaCallTimings>();
            var conc = new List<ReplicaCallTimings>();
            var seqCpu = new List<ProcessCpu.Breakdown>();
            var concCpu = new List<ProcessCpu.Breakdown>();
            var measureCpu = ProcessCpu.IsAvailable;
            for (var round = 0; round < rounds; round++)
            {
                sequentials.Add(await MeasureAsync(runtime, one, "ops:add", ExecutionMode.Container, calls, concurrent: false, warmup: 1, measureCpu ? seqCpu : null));
                seq.AddRange(Clear(timings).Where(t => !t.Started));
                concurrents.Add(await MeasureAsync(runtime, four, "ops:add", ExecutionMode.Container, calls, concurrent: true, warmup: 8, measureCpu ? concCpu : null));
                conc.AddRange(Clear(timings));
                ratios.Add(concurrents[^1] / sequentials[^1]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round + 1}: {calls} sequential calls (1 replica) {Ms(sequentials[^1])} ms, {calls} concurrent calls (4 replicas) {Ms(concurrents[^1])} ms, ratio {ratios[^1]:0.00}")
                    + (measureCpu ? string.Create(CultureInfo.InvariantCulture, $"; CPU ours/others' {seqCpu[^1].Ours:0}/{seqCpu[^1].Other:0} ms and {concCpu[^1].Ours:0}/{concCpu[^1].Other:0} ms") : ""));
            }

            var sequential = Median(sequentials);
            var concurrent = Median(concurrents);
            var sleepySequential = await MeasureAsync(runtime, sleepy1, "ops:nap", ExecutionMode.Container, calls / 4, concurrent: false, warmup: 1);
            var sleepyConcurrent = await MeasureAsync(runtime, sleepy, "ops:nap", ExecutionMode.Container, calls / 4, concurrent: true, warmup: 8);
            Clear(timings);
            var singleShot = await MeasureAsync(runtime, single, "ops:add", ExecutionMode.Container, singleShotCalls, concurrent: false, warmup: 0);
            var local = await MeasureAsync(runtime, one, "ops:add", ExecutionMode.Local, calls, concurrent: false, warmup: 1);

            var perCall = sequential / calls;
            Console.WriteLine($"P7: {calls} calls of a trivial Python task (app.ops:add) per measurement, one run each, timed inside the calling C# task");
            Console.WriteLine("    (the run's first call, which starts the replicas or the local interpreter, is made before the clock starts)");
            Console.WriteLine();
            Console.WriteLine($"sequential, reusable environment (1 replica, container mode), median of {rounds} rounds:");
            Line("total", sequential);
            Line("per call", perCall);
            Line("  executor total, median", Median(seq.Select(t => t.Total)));
            Line("    acquire an idle replica", Median(seq.Select(t => t.Acquire)));
            Line("    serve request round trip (replica socket, task run)", Median(seq.Select(t => t.Call)));
            Line("  controller + run store per action (mean per call - executor mean)", Mean(sequentials) / calls - Mean(seq.Select(t => t.Total)));
            Line("first call of a run: replica start + call (cold)", cold);
            Console.WriteLine("baselines, same process:");
            Line($"single-shot container per call ({singleShotCalls} calls)", singleShot / singleShotCalls);
            Line("local warm interpreter per call", local / calls);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"P7 per-call cost, reusable: {Ms(perCall)} ms   (goal <= 20 ms; single-shot {Ms(singleShot / singleShotCalls)} ms = {(singleShot / singleShotCalls) / perCall:0}x it; local warm {Ms(local / calls)} ms)"));
            Console.WriteLine();
            Console.WriteLine($"concurrent, reusable environment (4 replicas, started by 8 warm-up calls), {calls} calls at once, median of {rounds} rounds:");
            Line("total", concurrent);
            Line("  replicas started per round", TimeSpan.Zero, (conc.Count(t => t.Started) / rounds).ToString(CultureInfo.InvariantCulture));
            Line("  serve request round trip, median", Median(conc.Where(t => !t.Started).Select(t => t.Call)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"P7 concurrency ratio (4 replicas concurrent / 1 replica sequential, trivial task), median of the rounds: {ratios.Order().ElementAt(ratios.Count / 2):0.00}   (goal <= 0.33)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"   same with a task that waits 50 ms ({calls / 4} calls): {Ms(sleepyConcurrent)} ms / {Ms(sleepySequential)} ms = {sleepyConcurrent / sleepySequential:0.00}"));
            if (measureCpu)
            {
                PrintCpu(seqCpu, concCpu, calls, sequential);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"driver peak RSS: {PeakRssMiB():0} MiB"));
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>One run whose C# root task calls the Python task <paramref name="n"/> times; returns the time of the calls alone.</summary>
    private static async Task<TimeSpan> MeasureAsync(FlyteRuntime runtime, TaskEnvironment env, string function, ExecutionMode mode, int n, bool concurrent, int warmup,
        List<ProcessCpu.Breakdown>? cpu = null)
    {
        var add = env.PythonTask<int, int>("app." + function);
        var elapsed = TimeSpan.Zero;
        var root = env.Task($"measure{Interlocked.Increment(ref _tasks).ToString(CultureInfo.InvariantCulture)}", async (int count) =>
        {
            // Untimed: starts the replicas (concurrent calls start up to the bound) or the local interpreter.
            await Task.WhenAll(Enumerable.Range(0, warmup).Select(i => add.InvokeAsync(-1000 - i)));
            var before = cpu is not null ? ProcessCpu.Take() : null;
            var clock = Stopwatch.StartNew();
            var sum = 0;
            if (concurrent)
            {
                sum = (await Task.WhenAll(Enumerable.Range(0, count).Select(i => add.InvokeAsync(i)))).Sum();
            }
            else
            {
                for (var i = 0; i < count; i++)
                {
                    sum += await add.InvokeAsync(i);
                }
            }

            elapsed = clock.Elapsed;
            if (before is not null)
            {
                // The replicas' names hold the environment's name ("flytesharp-RUN-ENV-rXXXXXX").
                var breakdown = ProcessCpu.Between(before, ProcessCpu.Take(), "-" + env.Name + "-r");
                lock (cpu!)
                {
                    cpu.Add(breakdown);
                }
            }

            return sum;
        });
        var run = await runtime.Run(root, n, new RunOptions { Mode = mode, MaxConcurrency = Math.Max(n, warmup) + 1 });
        var result = await run.GetOutputAsync();
        await run.WaitAsync();
        if (result != n * (n + 1) / 2)
        {
            throw new InvalidOperationException($"expected {n * (n + 1) / 2}, got {result}");
        }

        return elapsed;
    }

    private static int _tasks;

    /// <summary>
    /// Where the CPU of the trivial calls went (per call, medians of the rounds), and what it implies: the concurrent
    /// calls cannot finish faster than all their CPU spread over every core of the machine.
    /// </summary>
    private static void PrintCpu(List<ProcessCpu.Breakdown> sequential, List<ProcessCpu.Breakdown> concurrent, int calls, TimeSpan sequentialTime)
    {
        Console.WriteLine();
        Console.WriteLine($"CPU per call (ms on a CPU, /proc/*/task/*/schedstat around the timed calls), median of the rounds:");
        Console.WriteLine($"  {"",-58} {"sequential",10} {"concurrent",10}");
        void Row(string label, Func<ProcessCpu.Breakdown, double> part) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {label,-58} {MedianOf(sequential, part) / calls,10:0.000} {MedianOf(concurrent, part) / calls,10:0.000}"));
        Row("driver (controller, run store, executor, transport)", b => b.Driver);
        Row("podman run, attached (one per replica)", b => b.Podman);
        Row("conmon (one per replica)", b => b.Conmon);
        Row("in the container (init + runner)", b => b.Containers);
        Row("total of the above", b => b.Ours);
        Row("other processes on the machine meanwhile", b => b.Other);
        var cores = Environment.ProcessorCount;
        var floor = MedianOf(concurrent, b => b.Ours) / cores;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  estimate: {calls} concurrent calls need ~{floor:0} ms ({MedianOf(concurrent, b => b.Ours) / calls:0.000} ms CPU per call / {cores} cores), i.e. a ratio of ~{floor / sequentialTime.TotalMilliseconds:0.00} against the sequential {Ms(sequentialTime)} ms, on an otherwise idle machine"));
        // Not a strict bound: part of the driver's CPU is the thread pool spinning while it waits for work, which
        // yields to real work when both cores are busy.
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  a ratio <= 0.33 needs <= {cores * sequentialTime.TotalMilliseconds / calls / 3:0.000} ms CPU per concurrent call ({cores} cores x the sequential {Ms(sequentialTime / calls)} ms per call / 3)"));
    }

    private static double MedianOf(List<ProcessCpu.Breakdown> values, Func<ProcessCpu.Breakdown, double> part)
    {
        var sorted = values.Select(part).Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static List<ReplicaCallTimings> Clear(List<ReplicaCallTimings> timings)
    {
        lock (timings)
        {
            List<ReplicaCallTimings> taken = [.. timings];
            timings.Clear();
            return taken;
        }
    }

    private static double PeakRssMiB()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? TimeSpan.Zero : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static TimeSpan Mean(IEnumerable<TimeSpan> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)list.Average(t => t.Ticks));
    }

    private static void Line(string label, TimeSpan value, string? text = null) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label,-58} {text ?? Ms(value),9}{(text is null ? " ms" : "")}"));

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString(t.TotalMilliseconds < 10 ? "0.00" : "0", CultureInfo.InvariantCulture);
}
