using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>
/// A reusable container's serve socket on real podman: printed output reaches the action that printed it, and task code
/// that writes to the socket or replaces its path cannot make the driver read anything but the runner's replies.
/// </summary>
public class ReusableContainerSocketTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    private const string Tasks = """
        import os, socket, subprocess, sys

        def shout(i: int) -> str:
            print(f"hello from call {i}")
            print("x" * 40000)
            sys.stderr.write(f"warning {i}\n")
            return socket.gethostname()

        def garbage(i: int) -> str:
            # The runner's connection is a descriptor of this process: task code can reach it.
            for fd in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                        os.write(int(fd), b"not the runner's protocol\n")
                except OSError:
                    pass
            return socket.gethostname()

        def relink(i: int) -> str:
            path = "/flytesharp/io/serve.sock"
            if os.path.lexists(path):
                os.remove(path)
            os.symlink("/etc/passwd", path)
            return socket.gethostname()

        def host(i: int) -> str:
            return socket.gethostname()

        def crash(i: int) -> str:
            import signal
            os.kill(os.getpid(), signal.SIGSEGV)
            return socket.gethostname()

        def echo(i: int) -> str:
            print(f"python {i}")
            subprocess.run(["sh", "-c", f"echo fd-out-{i}; echo fd-err-{i} >&2"], check=True)
            return socket.gethostname()
        """;

    [Fact]
    public async Task Run_TasksPrintOnOneReplica_EachLineReachesTheActionThatPrintedIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/t.py", Tasks);
        var env = new TaskEnvironment("reuselogs", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var shout = env.PythonTask<int, string>("app.t:shout");
        var pipeline = env.Task("pipeline", async (int n) => await shout.InvokeAsync(n) + "," + await shout.InvokeAsync(n + 1));

        var run = await project.Runtime.Run(pipeline, 1, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.True(status == RunStatus.Succeeded, run.Error?.ToString());
        Assert.Single((await run.GetOutputAsync(ct)).Split(',').Distinct()); // one container for both calls
        var logs = await run.GetLogsAsync(cancellationToken: ct);
        foreach (var i in new[] { 1, 2 })
        {
            var action = Assert.Single(logs, l => l.Text == $"hello from call {i}").ActionId;
            var own = logs.Where(l => l.ActionId == action).ToList();
            Assert.True(own.Any(l => l.Stream == "stderr" && l.Text == $"warning {i}"), $"no warning {i} in its action's log");
            Assert.Equal(new string('x', 40000), string.Concat(own.Where(l => l.Stream == "stdout" && l.Text.StartsWith('x')).Select(l => l.Text)));
        }
    }

    [Fact]
    public async Task Run_ManyCallsWhoseSubprocessWritesToTheDescriptors_EachLineReachesItsOwnAction()
    {
        const int Calls = 60;
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/t.py", Tasks);
        var env = new TaskEnvironment("reusefd", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var echo = env.PythonTask<int, string>("app.t:echo");
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var hosts = new HashSet<string>();
            for (var i = 0; i < n; i++)
            {
                hosts.Add(await echo.InvokeAsync(i));
            }

            return hosts.Count;
        });

        var run = await project.Runtime.Run(pipeline, Calls, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.True(status == RunStatus.Succeeded, run.Error?.ToString());
        Assert.Equal(1, await run.GetOutputAsync(ct)); // one replica served every call
        Assert.Empty(FdOutputMisplaced(await run.GetLogsAsync(cancellationToken: ct), Calls));
    }

    [Fact]
    public async Task Run_TaskCrashesTheReplicasInterpreter_ErrorCarriesTheRunnersCrashReportFromTheContainersStderr()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/t.py", Tasks);
        var env = new TaskEnvironment("reusecrash", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var crash = env.PythonTask<int, string>("app.t:crash");
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            try
            {
                return "no error: " + await crash.InvokeAsync(n);
            }
            catch (PythonTaskException ex)
            {
                return ex.PythonType + "\n" + ex.Message;
            }
        });

        var run = await project.Runtime.Run(pipeline, 1, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var output = await run.GetOutputAsync(ct);
        await run.WaitAsync(ct);

        Assert.StartsWith("ProcessExited\n", output, StringComparison.Ordinal);
        Assert.Contains("Segmentation fault", output, StringComparison.Ordinal);
        Assert.Contains("in crash", output, StringComparison.Ordinal);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    /// <summary>
    /// Each call i prints "python i" (the task's own print, attributed by the runner) and runs a shell writing "fd-out-i"
    /// to fd 1 and "fd-err-i" to fd 2: the descriptions of every call whose descriptor output is not exactly once in its
    /// own action's log, on the stream it was written to.
    /// </summary>
    internal static List<string> FdOutputMisplaced(IReadOnlyList<LogLine> logs, int calls)
    {
        var misplaced = new List<string>();
        for (var i = 0; i < calls; i++)
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

        return misplaced;
    }

    [Fact]
    public async Task Run_TaskWritesGarbageToTheServeSocket_CallFailsClearlyAndTheNextCallGetsANewReplica()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/t.py", Tasks);
        var env = new TaskEnvironment("reusegarbage", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var garbage = env.PythonTask<int, string>("app.t:garbage");
        var host = env.PythonTask<int, string>("app.t:host");
        var pipeline = env.Task("pipeline", async (int n) =>
        {
            var before = await host.InvokeAsync(n);
            try
            {
                await garbage.InvokeAsync(n);
                return "garbage accepted";
            }
            catch (FlyteSharpException ex)
            {
                return before + "," + await host.InvokeAsync(n) + "," + ex.Message;
            }
        });

        var run = await project.Runtime.Run(pipeline, 1, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.True(status == RunStatus.Succeeded, run.Error?.ToString());
        var parts = (await run.GetOutputAsync(ct)).Split(',', 3);
        Assert.NotEqual(parts[0], parts[1]); // the replica that spoke garbage was never handed out again
        Assert.Contains("not JSON", parts[2], StringComparison.Ordinal);
        Assert.DoesNotContain("not the runner's protocol", parts[2], StringComparison.Ordinal);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_TaskReplacesTheSocketPathWithASymlink_LaterCallsKeepTheirConnectionToTheSameReplica()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/t.py", Tasks);
        var env = new TaskEnvironment("reuselink", Image.FromDebianBase("3.11").WithCodeBundle(), reuse: new ReusePolicy(Replicas: 1));
        var relink = env.PythonTask<int, string>("app.t:relink");
        var host = env.PythonTask<int, string>("app.t:host");
        var pipeline = env.Task("pipeline", async (int n) => await relink.InvokeAsync(n) + "," + await host.InvokeAsync(n) + "," + await host.InvokeAsync(n));

        var run = await project.Runtime.Run(pipeline, 1, new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct });
        var status = await run.WaitAsync(ct);

        Assert.True(status == RunStatus.Succeeded, run.Error?.ToString());
        Assert.Single((await run.GetOutputAsync(ct)).Split(',').Distinct());
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }
}
