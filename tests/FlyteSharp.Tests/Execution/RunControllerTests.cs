using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution;

public class RunControllerTests : IDisposable
{
    private readonly RunFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static TaskEnvironment NewEnv(string name = "etl") => new(name, Image.FromDebianBase());

    [Fact]
    public async Task Run_CSharpPipelineCallsPythonTasks_RoundTripsValuesThroughChildActions()
    {
        _fixture.WritePython("lib/ops.py", """
            def normalize(values):
                top = max(values)
                return [v / top for v in values]
            """);
        _fixture.WritePython("app/etl.py", """
            from lib.ops import normalize

            async def load_data(n: int) -> list[float]:
                print(f"loading {n}")
                return [float(i * 1.5) for i in range(n)]

            def transform_data(raw: list[float]) -> list[float]:
                return normalize(raw)
            """);
        var env = NewEnv();
        var load = env.PythonTask<int, List<double>>("app.etl:load_data");
        var transform = env.PythonTask<List<double>, List<double>>("app.etl:transform_data");
        var pipeline = env.Task("etl_pipeline", async (int n) =>
        {
            var raw = await load.InvokeAsync(n);
            return await transform.InvokeAsync(raw);
        });

        var run = await _fixture.Runtime.Run(pipeline, 5, _fixture.Options());
        var output = await run.GetOutputAsync(TestContext.Current.CancellationToken);

        Assert.Equal([0.0, 0.25, 0.5, 0.75, 1.0], output);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        var actions = await run.GetActionsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["etl_pipeline", "app.etl:load_data", "app.etl:transform_data"], actions.Select(a => a.Task));
        Assert.Null(actions[0].ParentId);
        Assert.All(actions.Skip(1), a => Assert.Equal(actions[0].Id, a.ParentId));
        Assert.Equal([TaskKind.CSharp, TaskKind.Python, TaskKind.Python], actions.Select(a => a.Kind));
        Assert.Equal("{\"n\":5}", actions[1].InputsJson);
        Assert.Equal("[0.0, 1.5, 3.0, 4.5, 6.0]", actions[1].OutputsJson);
        var logs = await run.GetLogsAsync(actions[1].Id, TestContext.Current.CancellationToken);
        Assert.Contains(logs, l => l is { Stream: "stdout", Text: "loading 5" });
    }

    [Fact]
    public async Task Run_FanOutOf100Children_CompletesWithinConcurrencyBound()
    {
        var env = NewEnv();
        var running = 0;
        var peak = 0;
        var square = env.Task("square", async (int x) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            await Task.Delay(5, TestContext.Current.CancellationToken);
            Interlocked.Decrement(ref running);
            return x * x;
        });
        var fanOut = env.Task("fan_out", async (int n) =>
        {
            var results = await Task.WhenAll(Enumerable.Range(0, n).Select(i => square.InvokeAsync(i)));
            return results.Sum();
        });

        var run = await _fixture.Runtime.Run(fanOut, 100, _fixture.Options(maxConcurrency: 4));

        Assert.Equal(Enumerable.Range(0, 100).Sum(i => i * i), await run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.InRange(peak, 2, 4);
        var actions = await run.GetActionsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(101, actions.Count);
        Assert.All(actions, a => Assert.Equal(ActionStatus.Succeeded, a.Status));
        Assert.Equal(Enumerable.Range(1, 100), actions.Skip(1).Select(a => a.Sequence));
    }

    [Fact]
    public async Task Run_NestedFanOutWiderThanBound_DoesNotDeadlock()
    {
        var env = NewEnv();
        var leaf = env.Task("leaf", async (int x) => { await Task.Yield(); return x; });
        var middle = env.Task("middle", async (int x) => (await Task.WhenAll(Enumerable.Range(0, 5).Select(i => leaf.InvokeAsync(x * 10 + i)))).Sum());
        var top = env.Task("top", async (int n) => (await Task.WhenAll(Enumerable.Range(0, n).Select(middle.InvokeAsync))).Sum());

        var run = await _fixture.Runtime.Run(top, 8, _fixture.Options(maxConcurrency: 2));

        var expected = Enumerable.Range(0, 8).Sum(x => Enumerable.Range(0, 5).Sum(i => x * 10 + i));
        Assert.Equal(expected, await run.GetOutputAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Run_TaskFailsEveryAttempt_RetriesConfiguredTimesThenThrowsLastError()
    {
        var env = NewEnv();
        var calls = 0;
        var flaky = env.Task("flaky", async (int x) =>
        {
            var attempt = Interlocked.Increment(ref calls);
            await Task.Yield();
            throw new InvalidOperationException($"failure {attempt} (context attempt {TaskContext.Current!.Attempt})");
#pragma warning disable CS0162 // the body must still have a return type
            return x;
#pragma warning restore CS0162
        }, new TaskOptions { Retries = 2, RetryBackoff = TimeSpan.FromMilliseconds(1) });
        var root = env.Task("root", async (int x) => await flaky.InvokeAsync(x));

        var run = await _fixture.Runtime.Run(root, 1, _fixture.Options());

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Equal("failure 3 (context attempt 3)", ex.Message);
        Assert.Equal(3, calls);
        Assert.Equal(RunStatus.Failed, run.Status);
        var actions = await run.GetActionsAsync(TestContext.Current.CancellationToken);
        var action = Assert.Single(actions, a => a.Task == "flaky");
        Assert.Equal(ActionStatus.Failed, action.Status);
        Assert.Equal(3, action.Attempts);
        Assert.Equal("failure 3 (context attempt 3)", action.Error!.Message);
        var notes = (await run.GetLogsAsync(action.Id, TestContext.Current.CancellationToken)).Where(l => l.Stream == "flytesharp").ToArray();
        Assert.Equal(2, notes.Length);
        Assert.Contains("attempt 1 of 3 failed", notes[0].Text);
    }

    [Fact]
    public async Task Run_TaskSucceedsOnRetry_ReturnsOutputAndRecordsAttempts()
    {
        var env = NewEnv();
        var calls = 0;
        var flaky = env.Task("flaky", async (int x) =>
        {
            await Task.Yield();
            return Interlocked.Increment(ref calls) < 2 ? throw new IOException("transient") : x + 1;
        }, new TaskOptions { Retries = 3, RetryBackoff = TimeSpan.Zero });

        var run = await _fixture.Runtime.Run(flaky, 41, _fixture.Options());

        Assert.Equal(42, await run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, Assert.Single(await run.GetActionsAsync(TestContext.Current.CancellationToken)).Attempts);
    }

    [Fact]
    public async Task Run_AttemptExceedsTimeout_CancelsActionAndFailsWithTimeout()
    {
        var env = NewEnv();
        var observedCancellation = new TaskCompletionSource<bool>();
        var slow = env.Task("slow", async (int x) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, TaskContext.Current!.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                observedCancellation.TrySetResult(true);
                throw;
            }

            return x;
        }, new TaskOptions { Timeout = TimeSpan.FromMilliseconds(200) });

        var run = await _fixture.Runtime.Run(slow, 1, _fixture.Options());

        var ex = await Assert.ThrowsAsync<TaskTimeoutException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Equal("slow", ex.Task);
        Assert.True(await observedCancellation.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        var action = Assert.Single(await run.GetActionsAsync(TestContext.Current.CancellationToken));
        Assert.Equal(ActionStatus.TimedOut, action.Status);
    }

    [Fact]
    public async Task Run_PythonAttemptExceedsTimeout_KillsTheInterpreter()
    {
        _fixture.WritePython("app/slow.py", """
            import os, time
            def sleep(seconds: float) -> int:
                with open(os.environ["PID_FILE"], "w") as f:
                    f.write(str(os.getpid()))
                time.sleep(seconds)
                return 1
            """);
        var pidFile = Path.Combine(_fixture.Root, "pid");
        Environment.SetEnvironmentVariable("PID_FILE", pidFile);
        var env = NewEnv();
        var sleep = env.PythonTask<double, int>("app.slow:sleep", new TaskOptions { Timeout = TimeSpan.FromSeconds(2) });

        var run = await _fixture.Runtime.Run(sleep, 120.0, _fixture.Options());

        await Assert.ThrowsAsync<TaskTimeoutException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));
        var pid = int.Parse(File.ReadAllText(pidFile));
        Assert.Throws<ArgumentException>(() => System.Diagnostics.Process.GetProcessById(pid));
    }

    [Fact]
    public async Task Run_CachedTask_ReturnsCachedOutputWithoutRunningBody()
    {
        var env = NewEnv();
        var bodyRuns = 0;
        var options = new TaskOptions { Cache = true };
        var expensive = env.Task("expensive", async (int x) => { Interlocked.Increment(ref bodyRuns); await Task.Yield(); return new Stats(x, x * 2.5); }, options);

        var first = await _fixture.Runtime.Run(expensive, 4, _fixture.Options());
        Assert.Equal(new Stats(4, 10.0), await first.GetOutputAsync(TestContext.Current.CancellationToken));
        var second = await _fixture.Runtime.Run(expensive, 4, _fixture.Options());
        Assert.Equal(new Stats(4, 10.0), await second.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Equal(1, bodyRuns);
        var cached = Assert.Single(await second.GetActionsAsync(TestContext.Current.CancellationToken));
        Assert.Equal(ActionStatus.Cached, cached.Status);
        Assert.True(cached.CacheHit);
        Assert.Equal("{\"count\":4,\"mean\":10}", cached.OutputsJson);

        var other = await _fixture.Runtime.Run(expensive, 5, _fixture.Options());
        await other.GetOutputAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, bodyRuns);
    }

    [Fact]
    public async Task Run_CacheVersionChanged_RunsBodyAgain()
    {
        var bodyRuns = 0;
        Task<int> Body(int x) { Interlocked.Increment(ref bodyRuns); return Task.FromResult(x); }
        var v1 = NewEnv().Task("versioned", (int x) => Body(x), new TaskOptions { Cache = true, CacheVersion = "1" });
        var v2 = NewEnv().Task("versioned", (int x) => Body(x), new TaskOptions { Cache = true, CacheVersion = "2" });

        await (await _fixture.Runtime.Run(v1, 1, _fixture.Options())).GetOutputAsync(TestContext.Current.CancellationToken);
        await (await _fixture.Runtime.Run(v2, 1, _fixture.Options())).GetOutputAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, bodyRuns);
    }

    [Fact]
    public async Task Run_PythonTaskRaises_SurfacesTypeMessageAndTraceback()
    {
        _fixture.WritePython("app/bad.py", """
            def divide(a: int, b: int) -> float:
                check(b)
                return a / b

            def check(b):
                if b == 0:
                    raise ValueError(f"b must not be zero, got {b}")
            """);
        var env = NewEnv();
        var divide = env.PythonTask<int, int, double>("app.bad:divide");
        var root = env.Task("root", async (int a) => await divide.InvokeAsync(a, 0));

        var run = await _fixture.Runtime.Run(root, 3, _fixture.Options());

        var ex = await Assert.ThrowsAsync<PythonTaskException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Equal("ValueError", ex.PythonType);
        Assert.Equal("b must not be zero, got 0", ex.PythonMessage);
        Assert.Contains("app/bad.py\", line 7, in check", ex.PythonTraceback);
        Assert.Contains("line 2, in divide", ex.PythonTraceback);
        var failed = Assert.Single(await run.GetActionsAsync(TestContext.Current.CancellationToken), a => a.Task == "app.bad:divide");
        Assert.Equal("ValueError", failed.Error!.Type);
        Assert.Contains("raise ValueError", failed.Error.Traceback);
    }

    [Fact]
    public async Task Run_CSharpChildThrows_ExceptionPropagatesToAwaitingParent()
    {
        var env = NewEnv();
        var child = env.Task("child", async (string s) => { await Task.Yield(); return s.Length > 3 ? throw new ArgumentException($"too long: {s}") : s; });
        var parent = env.Task("parent", async (string s) =>
        {
            try
            {
                return await child.InvokeAsync(s);
            }
            catch (ArgumentException ex)
            {
                return "caught " + ex.Message;
            }
        });

        var run = await _fixture.Runtime.Run(parent, "abcdef", _fixture.Options());

        Assert.Equal("caught too long: abcdef", await run.GetOutputAsync(TestContext.Current.CancellationToken));
        var actions = await run.GetActionsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(ActionStatus.Failed, actions.Single(a => a.Task == "child").Status);
        Assert.Equal("System.ArgumentException", actions.Single(a => a.Task == "child").Error!.Type);
        Assert.Equal(ActionStatus.Succeeded, actions.Single(a => a.Task == "parent").Status);
    }

    [Fact]
    public async Task Run_SameProgramTwice_GivesSameActionIds()
    {
        var env = NewEnv();
        var leaf = env.Task("leaf", (int x) => Task.FromResult(x + 1));
        var root = env.Task("root", async (int n) => (await Task.WhenAll(Enumerable.Range(0, n).Select(i => leaf.InvokeAsync(i % 2)))).Sum());

        var a = await _fixture.Runtime.Run(root, 6, _fixture.Options());
        var b = await _fixture.Runtime.Run(root, 6, _fixture.Options());
        await a.GetOutputAsync(TestContext.Current.CancellationToken);
        await b.GetOutputAsync(TestContext.Current.CancellationToken);

        var idsA = (await a.GetActionsAsync(TestContext.Current.CancellationToken)).Select(x => x.Id).ToArray();
        var idsB = (await b.GetActionsAsync(TestContext.Current.CancellationToken)).Select(x => x.Id).ToArray();
        Assert.Equal(idsA, idsB);
        Assert.Equal(7, idsA.Distinct().Count()); // same task and inputs, different call sequence: different ids
    }

    [Fact]
    public async Task Run_UnboundedRecursion_FailsWithDepthError()
    {
        var env = NewEnv();
        FlyteTask<int, int>? down = null;
        down = env.Task("down", async (int n) => await down!.InvokeAsync(n + 1));

        var run = await new FlyteRuntime(_fixture.Config with { RootDir = _fixture.SrcDir, MaxDepth = 10 }).Run(down, 0, _fixture.Options());

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Contains("nested more than 10 deep", ex.Message);
        Assert.Contains("max_depth", ex.Fix);
    }

    [Fact]
    public async Task Run_TaskCallsItselfWithSameInputs_FailsWithCycleError()
    {
        var env = NewEnv();
        FlyteTask<int, int>? ping = null;
        FlyteTask<int, int>? pong = null;
        ping = env.Task("ping", async (int n) => await pong!.InvokeAsync(n));
        pong = env.Task("pong", async (int n) => await ping!.InvokeAsync(n));

        var run = await _fixture.Runtime.Run(ping, 7, _fixture.Options());

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Contains("cycle", ex.Message);
        Assert.Contains("ping → pong → ping", ex.Message);
    }

    [Fact]
    public async Task InvokeAsync_OutsideRun_IsPlainCall()
    {
        var env = NewEnv();
        var inRun = false;
        var task = env.Task("plain", (int x) => { inRun = TaskContext.Current is not null; return Task.FromResult(x * 3); });

        Assert.Equal(21, await task.InvokeAsync(7));
        Assert.False(inRun);
        Assert.False(File.Exists(_fixture.Config.EffectiveRunDatabase));
    }

    [Fact]
    public async Task Run_CSharpBodyWritesToConsole_CapturedInActionLogs()
    {
        var env = NewEnv();
        var talk = env.Task("talk", (string who) =>
        {
            Console.WriteLine($"hello {who}");
            Console.Error.WriteLine("a warning");
            return Task.FromResult(who.Length);
        });

        var run = await _fixture.Runtime.Run(talk, "world", _fixture.Options());
        await run.GetOutputAsync(TestContext.Current.CancellationToken);

        var logs = await run.GetLogsAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains(logs, l => l is { Stream: "stdout", Text: "hello world" });
        Assert.Contains(logs, l => l is { Stream: "stderr", Text: "a warning" });
    }

    [Fact]
    public async Task Run_Cancelled_RecordsCancelledRun()
    {
        var env = NewEnv();
        var started = new TaskCompletionSource();
        var wait = env.Task("wait", async (int x) => { started.SetResult(); await Task.Delay(Timeout.Infinite, TaskContext.Current!.CancellationToken); return x; });

        var run = await _fixture.Runtime.Run(wait, 1, _fixture.Options());
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        run.Cancel();

        Assert.Equal(RunStatus.Cancelled, await run.WaitAsync(TestContext.Current.CancellationToken));
        Assert.Equal(RunStatus.Cancelled, (await run.GetRecordAsync(TestContext.Current.CancellationToken)).Status);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var current = Volatile.Read(ref target); value > current; current = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, current) == current)
            {
                return;
            }
        }
    }

    public sealed record Stats(int Count, double Mean);
}
