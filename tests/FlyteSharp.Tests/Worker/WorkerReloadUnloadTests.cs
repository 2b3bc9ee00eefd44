using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Text.Json;
using FlyteSharp.Images;
using FlyteSharp.Tasks;
using FlyteSharp.Tests.Execution;
using FlyteSharp.Tests.Execution.Controller;
using FlyteSharp.Worker;

namespace FlyteSharp.Tests.Worker;

/// <summary>
/// A reusable replica lives through many edits: each reload to a new bundle loads the new code into a fresh collectible
/// context, and the old one must really leave memory (else a replica that serves 200 edits holds 200 copies of the code).
/// Real compiled task assemblies in real bundles, served by the worker's serve loop in this process; the contexts are
/// watched with weak references after full collections (the documented check of an unloadable context).
/// </summary>
[Collection(WorkerReloadUnloadCollection.Name)]
public sealed class WorkerReloadUnloadTests : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => AppContext.SetSwitch("FlyteSharp.Images.DefinitionsOnly", false);

    private static string Source(int version) => $$"""
        using System;
        using System.IO;
        using System.Threading;
        using System.Threading.Tasks;
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        namespace App;

        public sealed record Point(int X, int Y);

        public sealed record Answer(string Version, int Sum, Point Echo);

        public static class Tasks
        {
            public static readonly TaskEnvironment Env = new("reload", Image.FromDotnetBase("10.0"));

            public static readonly FlyteTask<Point, Answer> Add = Env.Task("add", async (Point p) =>
            {
                await Task.Delay(1);
                Console.WriteLine("adding " + System.Text.Json.JsonSerializer.Serialize(p)); // the task's own serializer use
                return new Answer("v{{version}}", p.X + p.Y, p);
            });

            public static readonly FlyteTask<int, int> Refuse = Env.Task<int, int>("refuse", async (int n) =>
            {
                await Task.Yield();
                throw new InvalidOperationException("v{{version}} refuses " + n);
            });

            // Calls a child through the driver's controller API (the driver runs its own definition of it).
            public static readonly FlyteTask<int, string> Nest = Env.Task("reload_nest", async (int n) =>
                $"v{{version}}:{await Double.InvokeAsync(n)}");

            public static readonly FlyteTask<int, int> Double = Env.Task("reload_double", async (int n) =>
            {
                await Task.Yield();
                return n * 2;
            });

            // Careless: leaves a thread running the task's own code until the stop file appears (the context cannot unload meanwhile).
            public static readonly FlyteTask<string, string> Linger = Env.Task("linger", async (string stopFile) =>
            {
                await Task.Yield();
                new Thread(() => { while (!File.Exists(stopFile)) { Thread.Sleep(20); } }) { IsBackground = true }.Start();
                return "lingering v{{version}}";
            });

            // Careless: leaves a foreground thread (one that keeps a .NET process alive) running until the stop file appears.
            public static readonly FlyteTask<string, string> Hold = Env.Task("hold", async (string stopFile) =>
            {
                await Task.Yield();
                new Thread(() => { while (!File.Exists(stopFile)) { Thread.Sleep(20); } }).Start();
                return "holding";
            });
        }
        """;

    private static WorkerArguments Arguments(TempTree tree) =>
        WorkerArguments.Parse(["--serve", "--app-dir", tree.Dir("app"), "--packages-dir", tree.PathOf("packages")]);

    private static async Task<(CompiledTaskBundle Bundle, string Directory)> BuildAsync(TempTree tree, int version)
    {
        var bundle = await CompiledTaskBundle.CreateAsync(Source(version), tree.PathOf($"build/v{version}"), tree.PathOf("cache"));
        return (bundle, tree.PathOf("bundles/" + bundle.Digest["sha256:".Length..]));
    }

    private static object Reload(int id, CompiledTaskBundle bundle, string directory) =>
        new { id, op = "reload", bundle = bundle.Archive, digest = bundle.Digest, bundle_dir = directory };

    private static object Add(int id, int x, int y) =>
        new { id, op = "call", task = "add", assembly = CompiledTaskBundle.AssemblyFile, inputs = new { p = new { x, y } } };

    // Not inlined: no local of the caller's frame keeps the context alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ContextServing(string directory) =>
        new(AssemblyLoadContext.All.OfType<UserCodeLoadContext>().Single(c => c.CodeDirectory == directory), trackResurrection: true);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ContextsUnder(string root) =>
        AssemblyLoadContext.All.OfType<UserCodeLoadContext>().Count(c => c.CodeDirectory.StartsWith(root, StringComparison.Ordinal));

    private static bool Collected(WeakReference context)
    {
        for (var i = 0; context.IsAlive && i < 20; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return !context.IsAlive;
    }

    private static async Task<bool> CollectedWithinAsync(WeakReference context, TimeSpan limit)
    {
        var started = Stopwatch.GetTimestamp();
        while (!Collected(context) && Stopwatch.GetElapsedTime(started) < limit)
        {
            await Task.Delay(50);
        }

        return !context.IsAlive;
    }

    private static int Occurrences(string text, string part) => text.Split(part).Length - 1;

    [Fact]
    public async Task Reload_ManyEditsWithRecordsOutputAndFailures_EveryEarlierContextIsCollectedWhileTheNewCodeServes()
    {
        const int edits = 10;
        using var tree = new TempTree();
        await using var worker = new ServeConnection(Arguments(tree));
        var earlier = new List<WeakReference>();

        for (var version = 1; version <= edits; version++)
        {
            var (bundle, directory) = await BuildAsync(tree, version);
            var reloaded = await worker.SendAsync(Reload(version * 10, bundle, directory));
            Assert.True(reloaded.GetProperty("ok").GetBoolean(), reloaded.ToString());

            var added = await worker.SendAsync(Add(version * 10 + 1, version, 100));
            Assert.True(added.GetProperty("ok").GetBoolean(), added.ToString());
            Assert.Equal($$$"""{"version":"v{{{version}}}","sum":{{{version + 100}}},"echo":{"x":{{{version}}},"y":100}}""", added.GetProperty("output").GetRawText());
            Assert.Equal($$$"""adding {"X":{{{version}}},"Y":100}""" + "\n", added.GetProperty("stdout").GetString());
            var refused = await worker.SendAsync(new { id = version * 10 + 2, op = "call", task = "refuse", assembly = CompiledTaskBundle.AssemblyFile, inputs = new { n = version } });
            Assert.Equal($"v{version} refuses {version}", refused.GetProperty("error").GetProperty("message").GetString());
            earlier.Add(ContextServing(directory));
        }

        // The last version still serves; every one before it is gone.
        var current = earlier[^1];
        earlier.RemoveAt(earlier.Count - 1);
        Assert.All(earlier.Select((context, index) => (context, index)), e => Assert.True(Collected(e.context), $"the context of v{e.index + 1} survived {edits - 1 - e.index} reload(s)"));
        Assert.True(current.IsAlive);
        Assert.Equal(1, ContextsUnder(tree.Root));
        Assert.Equal("", worker.Stderr);
    }
    [Fact]
    public async Task Reload_OldCodeLeftThreadsRunning_NewCodeServesAndTheLogSaysOnceThatOldCodeStaysInMemory()
    {
        using var tree = new TempTree();
        var stopFile = tree.PathOf("stop-lingering");
        await using var worker = new ServeConnection(Arguments(tree));
        var lingering = new List<WeakReference>();
        var others = new List<WeakReference>();
        var lastVersion = 2 + WorkerSession.SurvivorReloads + 1;

        try
        {
            for (var version = 1; version <= lastVersion; version++)
            {
                var (bundle, directory) = await BuildAsync(tree, version);
                var reloaded = await worker.SendAsync(Reload(version * 10, bundle, directory));
                Assert.True(reloaded.GetProperty("ok").GetBoolean(), reloaded.ToString());
                if (version == 1 + WorkerSession.SurvivorReloads)
                {
                    Assert.Equal("", worker.Stderr); // v1 has lived through fewer reloads than the worker waits for
                }

                if (version <= 2)
                {
                    var lingered = await worker.SendAsync(new { id = version * 10 + 1, op = "call", task = "linger", assembly = CompiledTaskBundle.AssemblyFile, inputs = new { stopFile } });
                    Assert.Equal($"\"lingering v{version}\"", lingered.GetProperty("output").GetRawText());
                    lingering.Add(ContextServing(directory));
                }
                else
                {
                    var added = await worker.SendAsync(Add(version * 10 + 1, version, 1));
                    Assert.Equal($"v{version}", added.GetProperty("output").GetProperty("version").GetString()); // the new code serves
                    others.Add(ContextServing(directory));
                }
            }

            // v1 and v2 both outlived the wait; the log says it once, naming the first, with the likely causes and the fix.
            var log = worker.Stderr;
            Assert.Equal(1, Occurrences(log, "flytesharp-worker: warning:"));
            Assert.Contains($"the code loaded from {tree.PathOf("bundles/")}", log, StringComparison.Ordinal);
            Assert.Contains($"still in memory {WorkerSession.SurvivorReloads} reloads after it was unloaded", log, StringComparison.Ordinal);
            Assert.Contains("a thread or timer it started", log, StringComparison.Ordinal);
            Assert.Contains("; fix: ", log, StringComparison.Ordinal);
            Assert.All(lingering, context => Assert.True(context.IsAlive));
            // What the threads pin is only their own version: the ones in between are gone.
            Assert.All(others.Take(others.Count - 1), context => Assert.True(Collected(context)));
        }
        finally
        {
            File.WriteAllText(stopFile, "");
        }

        // Once the threads end, their code leaves memory too.
        foreach (var context in lingering)
        {
            Assert.True(await CollectedWithinAsync(context, TimeSpan.FromSeconds(10)), "a context outlived the thread that kept it");
        }
    }
    [Fact]
    public async Task WorkerProcess_TaskLeftAForegroundThreadRunning_EndOfInputStillEndsTheProcess()
    {
        using var tree = new TempTree();
        var stopFile = tree.PathOf("stop-holding");
        var (bundle, directory) = await BuildAsync(tree, 1);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "flytesharp-worker", "flytesharp-worker.dll"), "--serve", "--app-dir", tree.Dir("app"), "--packages-dir", tree.PathOf("packages") },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var worker = Process.Start(start)!;
        var stderr = worker.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            await worker.StandardInput.WriteLineAsync(JsonSerializer.Serialize(Reload(1, bundle, directory)));
            await worker.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new { id = 2, op = "call", task = "hold", assembly = CompiledTaskBundle.AssemblyFile, inputs = new { stopFile } }));
            await worker.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
            Assert.Contains("\"ok\":true", await worker.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
            Assert.Contains("\"output\":\"holding\"", await worker.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

            worker.StandardInput.Close(); // what the driver does to retire a replica

            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var ended = await worker.WaitForExitAsync(patience.Token).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            Assert.True(ended, "the worker outlived its end of input while a task's foreground thread ran");
            Assert.Equal(0, worker.ExitCode);
        }
        finally
        {
            File.WriteAllText(stopFile, "");
            if (!worker.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                worker.Kill();
            }
        }

        Assert.DoesNotContain("Unhandled", await stderr, StringComparison.Ordinal);
    }
    [Fact]
    public async Task Reload_EditsWhoseTasksCallChildrenThroughTheController_EveryEarlierContextIsCollected()
    {
        const int edits = 4;
        using var tree = new TempTree();
        using var run = new RunFixture();
        var earlier = new List<WeakReference>();
        var parent = ContainerisedParent.Define(new TaskEnvironment("reload_driver", Image.FromDebianBase()), async p =>
        {
            await using var worker = new ServeConnection(Arguments(tree));
            var token = await File.ReadAllTextAsync(p.Server.TokenFile);
            for (var version = 1; version <= edits; version++)
            {
                var (bundle, directory) = await BuildAsync(tree, version);
                Assert.True((await worker.SendAsync(Reload(version * 10, bundle, directory))).GetProperty("ok").GetBoolean());
                var nested = await worker.SendAsync(new
                {
                    id = version * 10 + 1, op = "call", task = "reload_nest", assembly = CompiledTaskBundle.AssemblyFile, inputs = new { n = version },
                    run = p.Scope.RunName, action = p.Scope.ActionId, controller = p.Server.Address.ToString(), controller_token = token,
                });
                Assert.Equal($"\"v{version}:{version * 200}\"", nested.GetProperty("output").GetRawText()); // the driver's child multiplies by 200
                earlier.Add(ContextServing(directory));
            }

            earlier.RemoveAt(earlier.Count - 1);
            Assert.All(earlier.Select((context, index) => (context, index)), e => Assert.True(Collected(e.context), $"the context of v{e.index + 1} survived {edits - 1 - e.index} reload(s)"));
            Assert.Equal("", worker.Stderr);
            return "done";
        });

        var parentRun = await run.Runtime.Run(parent, run.Options());
        Assert.Equal("done", await parentRun.GetOutputAsync(TestContext.Current.CancellationToken));
    }
}
