using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Python;

public class LocalPythonExecutorTests : IDisposable
{
    private readonly FlyteSharp.Tests.Execution.RunFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task Execute_ModuleImported_RunsFromExtractedBundleInRunSandbox()
    {
        _fixture.WritePython("app/where.py", "def where() -> str:\n    return __file__\n");
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var where = env.PythonTask<string>("app.where:where");

        var run = await _fixture.Runtime.Run(where, _fixture.Options());
        var file = await run.GetOutputAsync(TestContext.Current.CancellationToken);
        await run.WaitAsync(TestContext.Current.CancellationToken); // the output is back once recorded; the run's end removes the sandbox

        var sandbox = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(file)))!;
        Assert.Equal(Path.Combine(_fixture.Config.Home, "sandboxes"), Path.GetDirectoryName(sandbox));
        Assert.StartsWith(run.Name + ".", Path.GetFileName(sandbox), StringComparison.Ordinal);
        Assert.Equal(Path.Combine("bundle", "app", "where.py"), Path.GetRelativePath(sandbox, file));
        Assert.StartsWith("sha256:", run.BundleDigest);
        var hex = run.BundleDigest!["sha256:".Length..];
        Assert.Contains(Directory.EnumerateFiles(Path.Combine(_fixture.Config.Home, "store"), "*", SearchOption.AllDirectories), f => f.EndsWith(hex, StringComparison.Ordinal));
        Assert.False(Directory.Exists(sandbox), "the sandbox is removed when the run ends");
    }

    [Fact]
    public async Task Execute_TaskPrintsThenWaits_PrintedLinesReachRunStoreWhileTaskRuns()
    {
        var marker = Path.Combine(_fixture.Config.Home, "release-marker");
        _fixture.WritePython("app/chatty.py", """
            import os
            import sys
            import time

            def chatty(marker: str) -> str:
                print("first line, printed before the wait")
                print("to stderr, also before the wait", file=sys.stderr)
                deadline = time.monotonic() + 60
                while not os.path.exists(marker):
                    if time.monotonic() > deadline:
                        raise TimeoutError("the marker never appeared")
                    time.sleep(0.05)
                print("after the marker")
                return "done"
            """);
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var chatty = env.PythonTask<string, string>("app.chatty:chatty");
        var ct = TestContext.Current.CancellationToken;

        var run = await _fixture.Runtime.Run(chatty, marker, _fixture.Options());
        var waited = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<FlyteSharp.Runs.LogLine> logs = [];
        while (waited.Elapsed < TimeSpan.FromSeconds(60) && !logs.Any(l => l.Stream == "stderr" && l.Text == "to stderr, also before the wait"))
        {
            await Task.Delay(50, ct);
            logs = await run.GetLogsAsync(cancellationToken: ct);
        }

        // The task is still blocked on the marker here: these lines can only have come from following its output.
        Assert.Contains(logs, l => l.Stream == "stdout" && l.Text == "first line, printed before the wait");
        Assert.Contains(logs, l => l.Stream == "stderr" && l.Text == "to stderr, also before the wait");
        Assert.DoesNotContain(logs, l => l.Text == "after the marker");

        await File.WriteAllTextAsync(marker, "", ct);
        Assert.Equal("done", await run.GetOutputAsync(ct));
        await run.WaitAsync(ct);
        var all = (await run.GetLogsAsync(cancellationToken: ct)).Where(l => l.Stream == "stdout").Select(l => l.Text).ToArray();
        Assert.Equal(["first line, printed before the wait", "after the marker"], all);
    }

    [Fact]
    public async Task Execute_TaskLeavesChildProcessesRunning_TheyAreKilledWhenTheActionEnds()
    {
        _fixture.WritePython("app/spawn.py", """
            import subprocess

            def spawn() -> list:
                child = subprocess.Popen(["sleep", "600"])
                # A grandchild the shell leaves behind: no longer the worker's child, still in its process group.
                shell = subprocess.run(["sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True, check=True)
                return [child.pid, int(shell.stdout.strip())]
            """);
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var spawn = env.PythonTask<List<int>>("app.spawn:spawn");
        // The root looks while the run (and its warm Python worker) is still going: the action's end is what counts.
        var root = env.Task("root", async () =>
        {
            var pids = await spawn.InvokeAsync();
            return pids.Select(pid => $"{pid}:{(IsRunning(pid) ? "running" : "gone")}").ToList();
        });

        var run = await _fixture.Runtime.Run(root, _fixture.Options());
        var states = await run.GetOutputAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, states.Count);
        Assert.All(states, s => Assert.EndsWith(":gone", s, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Execute_TaskLeavesOnlyAnOrphanedGrandchild_ItIsKilledWhenTheActionEnds()
    {
        // The shell is waited for, so the worker has no child of its own left: only the orphaned grandchild, which the
        // cheap "any child left?" check must still see (the worker adopts orphans as a subreaper).
        _fixture.WritePython("app/orphan.py", """
            import subprocess

            def orphan() -> int:
                shell = subprocess.run(["sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True, check=True)
                return int(shell.stdout.strip())
            """);
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var orphan = env.PythonTask<int>("app.orphan:orphan");
        var root = env.Task("root", async () =>
        {
            var pid = await orphan.InvokeAsync();
            return $"{pid}:{(IsRunning(pid) ? "running" : "gone")}";
        });

        var run = await _fixture.Runtime.Run(root, _fixture.Options());
        var state = await run.GetOutputAsync(TestContext.Current.CancellationToken);

        Assert.EndsWith(":gone", state, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_TaskStartsAProcessInANewSession_ItIsNotFollowedAndLaterCallsStillSucceed()
    {
        _fixture.WritePython("app/daemon.py", """
            import subprocess

            def daemon() -> int:
                return subprocess.Popen(["sleep", "600"], start_new_session=True).pid

            def plain(x: int) -> int:
                return x + 1
            """);
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var daemon = env.PythonTask<int>("app.daemon:daemon");
        var plain = env.PythonTask<int, int>("app.daemon:plain");
        var root = env.Task("root", async () =>
        {
            var pid = await daemon.InvokeAsync();
            var next = await plain.InvokeAsync(1);
            return $"{pid}:{(IsRunning(pid) ? "running" : "gone")}:{next}";
        });

        var run = await _fixture.Runtime.Run(root, _fixture.Options());
        var parts = (await run.GetOutputAsync(TestContext.Current.CancellationToken)).Split(':');
        var daemonPid = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            Assert.Equal("running", parts[1]);
            Assert.Equal("2", parts[2]);
        }
        finally
        {
            if (IsRunning(daemonPid))
            {
                System.Diagnostics.Process.GetProcessById(daemonPid).Kill();
            }
        }
    }

    /// <summary>True while <paramref name="pid"/> exists and is not a zombie (a zombie has ended; only its entry is left).</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0] != "Z";
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Execute_AsyncFunctionWithRecordInputs_RecordsCrossAsSnakeCaseDicts()
    {
        _fixture.WritePython("app/stats.py", """
            import asyncio

            async def describe(sample: dict, scale: float) -> dict:
                await asyncio.sleep(0)
                values = [v * scale for v in sample["values"]]
                return {"label": sample["label"].upper(), "total_sum": sum(values), "flags": [True, None, False], "nested": {"k": [1, 2]}}
            """);
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var describe = env.PythonTask<Sample, double, Summary>("app.stats:describe");

        var run = await _fixture.Runtime.Run(describe, new Sample("abc", [1, 2, 3.5]), 2.0, _fixture.Options());
        var summary = await run.GetOutputAsync(TestContext.Current.CancellationToken);

        Assert.Equal("ABC", summary.Label);
        Assert.Equal(13.0, summary.TotalSum);
        Assert.Equal([true, null, false], summary.Flags);
        Assert.Equal([1, 2], summary.Nested["k"]);
    }

    [Fact]
    public async Task Execute_ReturnsValueJsonCannotCarry_FailsNamingTheType()
    {
        _fixture.WritePython("app/bad.py", "def tags() -> set:\n    return {'a', 'b'}\n");
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var tags = env.PythonTask<List<string>>("app.bad:tags");

        var run = await _fixture.Runtime.Run(tags, _fixture.Options());

        var ex = await Assert.ThrowsAsync<PythonTaskException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Contains("returned a set, which JSON cannot carry", ex.Message);
    }

    [Fact]
    public async Task Execute_ReturnsWrongShapeForDeclaredType_FailsNamingTheType()
    {
        _fixture.WritePython("app/bad.py", "def count() -> str:\n    return 'many'\n");
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var count = env.PythonTask<int>("app.bad:count");

        var run = await _fixture.Runtime.Run(count, _fixture.Options());

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => run.GetOutputAsync(TestContext.Current.CancellationToken));
        Assert.Contains("returned \"many\", which is not a int", ex.Message);
    }

    [Fact]
    public async Task Execute_ProcessExitsDuringTask_ReportsExitAndNextCallUsesFreshInterpreter()
    {
        _fixture.WritePython("app/exit.py", "import os, sys\n\ndef die(code: int) -> int:\n    if code:\n        print('going down', file=sys.stderr)\n        os._exit(code)\n    return os.getpid()\n");
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var die = env.PythonTask<int, int>("app.exit:die");
        var root = env.Task("root", async (int code) =>
        {
            try
            {
                await die.InvokeAsync(code);
                return "no error";
            }
            catch (PythonTaskException ex)
            {
                return ex.PythonType + ":" + (await die.InvokeAsync(0) > 0);
            }
        });

        var run = await _fixture.Runtime.Run(root, 3, _fixture.Options());

        Assert.Equal("ProcessExited:True", await run.GetOutputAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Execute_TaskCrashesTheInterpreter_ErrorCarriesTheRunnersCrashReportNamingTheTask()
    {
        // The runner's own stderr (not the descriptors the task writes to, which are pipes while serving) keeps the crash report.
        _fixture.WritePython("app/crash.py", "import os, signal\n\ndef crash(i: int) -> int:\n    os.kill(os.getpid(), signal.SIGSEGV)\n    return i\n");
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var crash = env.PythonTask<int, int>("app.crash:crash");
        var root = env.Task("root", async (int i) =>
        {
            try
            {
                return "no error: " + await crash.InvokeAsync(i);
            }
            catch (PythonTaskException ex)
            {
                return ex.PythonType + "\n" + ex.Message;
            }
        });

        var run = await _fixture.Runtime.Run(root, 1, _fixture.Options());
        var output = await run.GetOutputAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith("ProcessExited\n", output, StringComparison.Ordinal);
        Assert.Contains("Segmentation fault", output, StringComparison.Ordinal);
        Assert.Contains("in crash", output, StringComparison.Ordinal); // the task's frame in the traceback
    }

    [Fact]
    public async Task Execute_ManyCallsSameEnvironment_ReuseWarmInterpreter()
    {
        _fixture.WritePython("app/pid.py", "import os\n\ndef pid(i: int) -> int:\n    return os.getpid()\n");
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var pid = env.PythonTask<int, int>("app.pid:pid");
        var root = env.Task("root", async (int n) =>
        {
            var pids = new HashSet<int>();
            for (var i = 0; i < n; i++)
            {
                pids.Add(await pid.InvokeAsync(i));
            }

            return pids.Count;
        });

        var run = await _fixture.Runtime.Run(root, 20, _fixture.Options());

        Assert.Equal(1, await run.GetOutputAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Execute_ManyCallsWhoseSubprocessWritesToTheDescriptors_EachLineReachesItsOwnAction()
    {
        const int Calls = 100;
        _fixture.WritePython("app/echo.py", """
            import subprocess

            def echo(i: int) -> int:
                print(f"python {i}")
                subprocess.run(["sh", "-c", f"echo fd-out-{i}; echo fd-err-{i} >&2"], check=True)
                return i
            """);
        var env = new TaskEnvironment("etl", Image.FromDebianBase());
        var echo = env.PythonTask<int, int>("app.echo:echo");
        var root = env.Task("root", async (int n) =>
        {
            for (var i = 0; i < n; i++)
            {
                await echo.InvokeAsync(i);
            }

            return n;
        });
        var ct = TestContext.Current.CancellationToken;

        var run = await _fixture.Runtime.Run(root, Calls, _fixture.Options());
        Assert.Equal(Calls, await run.GetOutputAsync(ct));
        await run.WaitAsync(ct);

        var logs = await run.GetLogsAsync(cancellationToken: ct);
        var misplaced = new List<string>();
        for (var i = 0; i < Calls; i++)
        {
            var action = Assert.Single(logs, l => l.Text == $"python {i}").ActionId;
            foreach (var (stream, text) in new[] { ("stdout", $"fd-out-{i}"), ("stderr", $"fd-err-{i}") })
            {
                var where = logs.Where(l => l.Text == text).Select(l => $"{l.ActionId}/{l.Stream}").ToList();
                if (where.Count != 1 || where[0] != $"{action}/{stream}")
                {
                    misplaced.Add($"call {i}: '{text}' in [{string.Join(", ", where)}], not once in {action}/{stream}");
                }
            }
        }

        Assert.Empty(misplaced);
    }

    public sealed record Sample(string Label, List<double> Values);

    public sealed record Summary(string Label, double TotalSum, List<bool?> Flags, Dictionary<string, List<int>> Nested);
}
