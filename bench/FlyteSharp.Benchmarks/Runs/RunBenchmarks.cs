using System.Diagnostics;
using System.Globalization;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Python;
using FlyteSharp.Images;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Benchmarks.Runs;

/// <summary>
/// End-to-end run benchmarks (not BenchmarkDotNet: they measure whole runs with the SQLite store on, and peak memory).
///   fanout [n]   — n trivial C# child actions in one run vs the same bodies under plain Task.WhenAll (the floor)
///   python [n]   — n calls of a trivial Python task: cold process per call vs FlyteSharp's warm interpreter, with a cost breakdown
/// </summary>
public static class RunBenchmarks
{
    private const int Iterations = 5;

    public static bool TryRun(string[] args)
    {
        switch (args)
        {
            case ["fanout", .. var rest]:
                FanOutAsync(rest.Length > 0 ? int.Parse(rest[0], CultureInfo.InvariantCulture) : 10_000).GetAwaiter().GetResult();
                return true;
            case ["python", .. var rest]:
                PythonAsync(rest.Length > 0 ? int.Parse(rest[0], CultureInfo.InvariantCulture) : 200).GetAwaiter().GetResult();
                return true;
            default:
                return false;
        }
    }

    private static async Task FanOutAsync(int n)
    {
        using var temp = new TempHome();
        var env = new TaskEnvironment("bench", Image.FromDebianBase());
        static async Task<int> Body(int x)
        {
            await Task.Yield();
            return x + 1;
        }

        var child = env.Task("child", (int x) => Body(x));
        var fanOut = env.Task("fan_out", async (int count) => (await Task.WhenAll(Enumerable.Range(0, count).Select(i => child.InvokeAsync(i)))).Sum());
        var runtime = new FlyteRuntime(temp.Config);
        var options = new RunOptions();

        // Warm-up: JIT, SQLite, thread pool.
        await (await runtime.Run(fanOut, 1000, options)).GetOutputAsync();
        await Task.WhenAll(Enumerable.Range(0, 1000).Select(Body));

        var floor = new List<Sample>();
        var flyte = new List<Sample>();
        for (var i = 0; i < Iterations; i++)
        {
            floor.Add(await MeasureAsync(async () => (await Task.WhenAll(Enumerable.Range(0, n).Select(Body))).Sum()));
            flyte.Add(await MeasureAsync(async () => await (await runtime.Run(fanOut, n, options)).GetOutputAsync()));
        }

        var f = Median(floor);
        var r = Median(flyte);
        Console.WriteLine($"fan-out of {n:N0} trivial C# child actions, median of {Iterations} (SQLite run store on, MaxConcurrency {temp.Config.MaxConcurrency})");
        Console.WriteLine($"  {"",-34} {"time",10} {"actions/s",12} {"alloc/action",13} {"peak managed",13}");
        Console.WriteLine($"  {"plain Task.WhenAll (floor)",-34} {Ms(f.Elapsed),10} {Rate(n, f.Elapsed),12} {Bytes(f.Allocated / n),13} {Bytes(f.PeakManaged),13}");
        Console.WriteLine($"  {"FlyteSharp run (child actions)",-34} {Ms(r.Elapsed),10} {Rate(n, r.Elapsed),12} {Bytes(r.Allocated / n),13} {Bytes(r.PeakManaged),13}");
        Console.WriteLine($"  ratio: FlyteSharp takes {r.Elapsed / f.Elapsed:0.0}x the floor's time; {r.Elapsed.TotalMicroseconds / n:0.0} µs per action vs {f.Elapsed.TotalMicroseconds / n:0.00} µs");
        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"  peak working set of the benchmark process: {Bytes(self.PeakWorkingSet64)}");
    }

    private static async Task PythonAsync(int n)
    {
        using var temp = new TempHome();
        var src = Path.Combine(temp.Root, "src", "benchpkg");
        Directory.CreateDirectory(src);
        await File.WriteAllTextAsync(Path.Combine(src, "__init__.py"), "");
        await File.WriteAllTextAsync(Path.Combine(src, "trivial.py"), "def inc(x: int) -> int:\n    return x + 1\n");
        var rootDir = Path.Combine(temp.Root, "src");
        var python = PythonInterpreter.Resolve(temp.Config, rootDir);
        var runner = Path.Combine(temp.Root, PythonRunnerScript.FileName);
        await File.WriteAllBytesAsync(runner, PythonRunnerScript.Bytes);

        // 1. Bare interpreter start.
        var interpreter = await TimeAsync(20, () => Exec(python, "-c", "pass"));

        // 2. Cold: one runner process per call (what a design without warm interpreters pays every call).
        var inputs = Path.Combine(temp.Root, "in.json");
        var outputs = Path.Combine(temp.Root, "out.json");
        await File.WriteAllTextAsync(inputs, "{\"x\": 1}");
        var cold = await TimeAsync(20, () => Exec(python, runner, "--bundle-dir", rootDir, "--task", "benchpkg.trivial:inc", "--inputs", inputs, "--outputs", outputs));

        // 3. Warm protocol round trip only (one worker, no run, no store).
        var worker = PythonWorker.Start(python, runner, rootDir, temp.Root);
        await worker.SendAsync(Call(0), null, default);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            using var _ = await worker.SendAsync(Call(i), null, default);
        }

        var roundTrip = sw.Elapsed / n;
        await worker.DisposeAsync();

        // 4. Whole FlyteSharp runs: n sequential and n concurrent Python child actions.
        var env = new TaskEnvironment("bench", Image.FromDebianBase());
        var inc = env.PythonTask<int, int>("benchpkg.trivial:inc");
        var inTask = TimeSpan.Zero;
        var sequential = env.Task("sequential", async (int count) =>
        {
            await inc.InvokeAsync(-1); // the interpreter is warm from here on
            var clock = Stopwatch.StartNew();
            var t = 0;
            for (var i = 0; i < count; i++)
            {
                t += await inc.InvokeAsync(i);
            }

            inTask = clock.Elapsed;
            return t;
        });
        var concurrent = env.Task("concurrent", async (int count) => (await Task.WhenAll(Enumerable.Range(0, count).Select(inc.InvokeAsync))).Sum());
        var runtime = new FlyteRuntime(temp.Config with { RootDir = rootDir });
        var options = new RunOptions();
        await (await runtime.Run(sequential, 5, options)).GetOutputAsync();
        var seqRuns = new List<TimeSpan>();
        var seqCalls = new List<TimeSpan>();
        var conRuns = new List<TimeSpan>();
        var setup = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            sw.Restart();
            await (await runtime.Run(sequential, 0, options)).GetOutputAsync();
            setup.Add(sw.Elapsed);
            sw.Restart();
            await (await runtime.Run(sequential, n, options)).GetOutputAsync();
            seqRuns.Add(sw.Elapsed);
            seqCalls.Add(inTask);
            sw.Restart();
            await (await runtime.Run(concurrent, n, options)).GetOutputAsync();
            conRuns.Add(sw.Elapsed);
        }

        // Minimums: the machine is shared, and noise only ever adds time.
        var runSetup = setup.Min();
        var seq = seqRuns.Min();
        var con = conRuns.Min();
        var perCallSeq = seqCalls.Min() / n;
        Console.WriteLine($"{n} calls of a trivial Python task (def inc(x): return x + 1), python {python} (minimum of repeats)");
        Console.WriteLine("  per-call cost, cold (a new process per call, the runner's one-shot mode):");
        Console.WriteLine($"    interpreter start (python -c pass)              {Ms(interpreter),10}");
        Console.WriteLine($"    + runner, json/asyncio imports, task import, I/O {Ms(cold - interpreter),10}");
        Console.WriteLine($"    = one cold call                                  {Ms(cold),10}   → {n} calls ≈ {Ms(cold * n)}");
        Console.WriteLine("  per-call cost, warm (FlyteSharp: one interpreter per run and environment, JSON lines over pipes):");
        Console.WriteLine($"    protocol round trip (C# → runner → C#)           {Ms(roundTrip),10}");
        Console.WriteLine($"    + action bookkeeping (id, JSON, store, slot)     {Ms(perCallSeq - roundTrip),10}");
        Console.WriteLine($"    = one sequential Python child action             {Ms(perCallSeq),10}");
        Console.WriteLine($"  paid once per run (bundle from cache, extract, start + check interpreter, store): {Ms(runSetup)}");
        Console.WriteLine($"  whole run, {n} sequential calls: {Ms(seq)} ({n / seq.TotalSeconds:0} calls/s)");
        Console.WriteLine($"  whole run, {n} concurrent calls (up to {LocalPythonExecutor.MaxWorkersPerEnvironment} warm interpreters): {Ms(con)} ({n / con.TotalSeconds:0} calls/s)");
        Console.WriteLine($"  warm vs cold per call: {cold / perCallSeq:0}x cheaper");
    }

    private static Dictionary<string, object?> Call(int i) => new() { ["op"] = "call", ["task"] = "benchpkg.trivial:inc", ["inputs"] = new Dictionary<string, int> { ["x"] = i } };

    private static async Task Exec(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed: {await p.StandardError.ReadToEndAsync()}");
        }
    }

    private static async Task<TimeSpan> TimeAsync(int repeat, Func<Task> action)
    {
        await action();
        var times = new List<TimeSpan>();
        for (var i = 0; i < repeat; i++)
        {
            var sw = Stopwatch.StartNew();
            await action();
            times.Add(sw.Elapsed);
        }

        return times.Min();
    }

    private static async Task<Sample> MeasureAsync(Func<Task<int>> action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var baseline = GC.GetTotalMemory(false);
        var allocated = GC.GetTotalAllocatedBytes(true);
        long peak = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false) - baseline);
                await Task.Delay(1);
            }
        });
        var sw = Stopwatch.StartNew();
        await action();
        var elapsed = sw.Elapsed;
        peak = Math.Max(peak, GC.GetTotalMemory(false) - baseline);
        await stop.CancelAsync();
        await sampler;
        return new Sample(elapsed, GC.GetTotalAllocatedBytes(true) - allocated, peak);
    }

    private static Sample Median(List<Sample> samples) => samples.OrderBy(s => s.Elapsed).ElementAt(samples.Count / 2);

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString(t.TotalMilliseconds < 10 ? "0.000" : "0.0", CultureInfo.InvariantCulture) + " ms";

    private static string Rate(int n, TimeSpan t) => (n / t.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture);

    private static string Bytes(long b) => b switch
    {
        < 10_000 => $"{b} B",
        < 10_000_000 => $"{b / 1024.0:0.0} KiB",
        _ => $"{b / 1024.0 / 1024.0:0.0} MiB",
    };

    private sealed record Sample(TimeSpan Elapsed, long Allocated, long PeakManaged);

    private sealed class TempHome : IDisposable
    {
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "flytesharp-bench-" + Guid.NewGuid().ToString("n"));

        public FlyteConfig Config => new() { Home = Path.Combine(Root, "home"), RunDatabase = Path.Combine(Root, "home", "runs.db") };

        public void Dispose()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(Root, recursive: true);
        }
    }
}
