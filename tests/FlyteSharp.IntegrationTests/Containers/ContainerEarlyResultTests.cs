using FlyteSharp.Building;
using FlyteSharp.Bundles;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runner;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

/// <summary>
/// The single-shot container path's latency work, with real podman: the result is taken as soon as the runner announces a
/// complete successful reply (a container failing after that is reported, the result stands), and the root action's
/// container starts while the pre-run check runs (a failing check stops it).
/// </summary>
public class ContainerEarlyResultTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task Run_ContainerExitsNonZeroAfterItsReply_RunSucceedsWithTheOutputAndLeavesNoContainer()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        // os._exit in an exit handler: the runner has written and announced its reply, then the process ends with code 7.
        project.WritePython("app/ops.py", """
            import atexit
            import os

            def add(x: int) -> int:
                print("hello from the task")
                atexit.register(os._exit, 7)
                return x + 1
            """);
        var env = new TaskEnvironment("late", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, int>("app.ops:add");

        var run = await project.Runtime.Run(add, 41, Options(ct));
        var output = await run.GetOutputAsync(ct);
        var status = await run.WaitAsync(ct);
        var stdout = (await run.GetLogsAsync(cancellationToken: ct)).Where(l => l.Stream == "stdout").Select(l => l.Text).ToArray();

        Assert.Equal(42, output);
        Assert.Equal(RunStatus.Succeeded, status);
        Assert.Contains("hello from the task", stdout);
        Assert.DoesNotContain(stdout, l => l.Contains(RunnerProtocol.ReplyWritten, StringComparison.Ordinal));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_ContainerStillExitingAfterItsReply_GetOutputReturnsBeforeItAndWaitAwaitsIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        // The exit handler keeps the container alive for 10 s after the reply: the output must not wait for it.
        project.WritePython("app/ops.py", """
            import atexit
            import time

            def add(x: int) -> int:
                atexit.register(time.sleep, 10)
                return x + 1
            """);
        var env = new TaskEnvironment("slow-exit", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, int>("app.ops:add");

        var run = await project.Runtime.Run(add, 1, Options(ct));
        var output = await run.GetOutputAsync(ct);
        var whenOutput = await Podman.ContainersAsync("flytesharp-" + run.Name);
        var status = await run.WaitAsync(ct);

        Assert.Equal(2, output);
        Assert.Single(whenOutput);
        Assert.Equal(RunStatus.Succeeded, status);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task ExecuteAsync_OutOfMemoryAfterTheReply_ResultStandsAndTheKillIsReportedAsLateExit()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        // The exit handler allocates far beyond the 48 MiB limit after the reply: the kernel kills the container (137).
        project.WritePython("app/ops.py", """
            import atexit

            def _hog():
                blocks = [bytearray(1024 * 1024) for _ in range(400)]
                print(len(blocks))

            def add(x: int) -> int:
                atexit.register(_hog)
                return x + 1
            """);
        var env = new TaskEnvironment("late-oom", Image.FromDebianBase("3.11").WithCodeBundle(), new Resources(Memory: "48Mi"));
        var add = env.PythonTask<int, int>("app.ops:add");
        var (executor, prefix) = await ExecutorAsync(project, env, ct);

        var result = await executor.ExecuteAsync(new PythonTaskRequest(add.Python!, env, "{\"x\": 1}", "a1", (_, _) => { }), ct);
        await executor.DisposeAsync();

        Assert.Null(result.Error);
        Assert.Equal("2", result.OutputJson);
        var late = Assert.Single(executor.LateExits);
        Assert.Contains("exited with code 137 (killed by its memory limit) after it had written a successful result", late);
        Assert.Empty(await Podman.ContainersAsync(prefix));
    }

    [Fact]
    public async Task ExecuteAsync_TaskRaises_WaitsForTheExitAndReportsThePythonError()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def add(x: int) -> int:\n    raise ValueError('no ' + str(x))\n");
        var env = new TaskEnvironment("raises", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, int>("app.ops:add");
        var (executor, prefix) = await ExecutorAsync(project, env, ct);

        var result = await executor.ExecuteAsync(new PythonTaskRequest(add.Python!, env, "{\"x\": 1}", "a1", (_, _) => { }), ct);
        await executor.DisposeAsync();

        Assert.Equal("ValueError", result.Error?.Type);
        Assert.Equal("no 1", result.Error?.Message);
        Assert.Empty(executor.LateExits);
        Assert.Empty(await Podman.ContainersAsync(prefix));
    }

    [Fact]
    public async Task Run_ContainerMode_RootContainerStartsWhileThePreRunCheckRuns()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var name = "early-" + Guid.NewGuid().ToString("N")[..8];
        var marker = Path.Combine(project.Root, "seen-by-check");
        project.WritePython("app/ops.py", CheckWatcher(name, marker) + "\ndef add(x: int) -> int:\n    return x + 1\n");
        var env = new TaskEnvironment("early", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, int>("app.ops:add");

        var run = await project.Runtime.Run(add, 1, Options(ct) with { Name = name });
        var output = await run.GetOutputAsync(ct);
        await run.WaitAsync(ct);

        Assert.Equal(2, output);
        // The check (importing the module on the host) saw the run's container while it ran.
        Assert.Equal("yes", await File.ReadAllTextAsync(marker, ct));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + name));
    }

    [Fact]
    public async Task Run_PreRunCheckFailsWhileTheContainerRuns_RunFailsClearlyAndLeavesNoContainer()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var name = "early-bad-" + Guid.NewGuid().ToString("N")[..8];
        var marker = Path.Combine(project.Root, "seen-by-check");
        // The module defines no `add`: the check fails, but only after the root's container was seen running.
        project.WritePython("app/ops.py", CheckWatcher(name, marker) + "\ndef other(x: int) -> int:\n    return x\n");
        var env = new TaskEnvironment("early", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, int>("app.ops:add");

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => project.Runtime.Run(add, 1, Options(ct) with { Name = name }));

        Assert.Contains("defines no 'add'", ex.Message);
        Assert.Contains("other", ex.Message);
        Assert.Equal("yes", await File.ReadAllTextAsync(marker, ct));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + name));
    }

    [Fact]
    public async Task Run_TaskWritesAReplyNamingAHostFile_RunFailsAndTheHostFileIsNeitherReadNorDeleted()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        var secret = Path.Combine(project.Root, "host-secret.json");
        await File.WriteAllTextAsync(secret, "\"host secret\"", ct);
        // The task writes the reply itself, naming a file of the driver's host as its output, and ends before the runner replies.
        project.WritePython("app/ops.py", $$"""
            import json
            import os

            def add(x: int) -> int:
                with open("/flytesharp/io/outputs.json", "w") as f:
                    json.dump({"ok": True, "output_file": {{System.Text.Json.JsonSerializer.Serialize(secret)}}}, f)
                os._exit(0)
            """);
        var env = new TaskEnvironment("forged", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, string>("app.ops:add");

        var run = await project.Runtime.Run(add, 1, Options(ct));
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => run.GetOutputAsync(ct));

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
        Assert.Contains("reply names an output file", ex.Message);
        Assert.Equal("\"host secret\"", await File.ReadAllTextAsync(secret, ct));
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_TaskWritesAReplyThatIsNotJson_RunFailsWithAClearErrorWithoutTheText()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", """
            import os

            def add(x: int) -> int:
                with open("/flytesharp/io/outputs.json", "w") as f:
                    f.write("not json: hunter2")
                os._exit(0)
            """);
        var env = new TaskEnvironment("garbled", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, int>("app.ops:add");

        var run = await project.Runtime.Run(add, 1, Options(ct));
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => run.GetOutputAsync(ct));

        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
        Assert.Contains("the container's reply is not JSON", ex.Message);
        Assert.DoesNotContain("hunter2", ex.ToString());
    }

    [Fact]
    public async Task Run_TaskReplacesItsReplyWithAFifo_RunFailsClearlyInsteadOfHanging()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        // A FIFO with no writer: a plain open on the driver's side would never return.
        project.WritePython("app/ops.py", """
            import os

            def add(x: int) -> int:
                os.mkfifo("/flytesharp/io/outputs.json")
                os._exit(0)
            """);
        var env = new TaskEnvironment("fifo", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, int>("app.ops:add");
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(TimeSpan.FromMinutes(3));

        var run = await project.Runtime.Run(add, 1, Options(ct));
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => run.GetOutputAsync(ct).WaitAsync(bound.Token));

        Assert.Contains("is not a regular file", ex.Message);
        Assert.Equal(RunStatus.Failed, await run.WaitAsync(ct));
    }

    /// <summary>
    /// Module code that, imported on the host (the pre-run check), waits until a container of run <paramref name="run"/>
    /// exists and writes "yes" to <paramref name="marker"/> (or "no" after two minutes); inside a container it does nothing.
    /// </summary>
    private static string CheckWatcher(string run, string marker) => $$$"""
        import os
        import subprocess
        import time

        if not os.path.exists("/flytesharp/io"):
            _seen = "no"
            for _ in range(600):
                _names = subprocess.run(["/usr/bin/podman", "ps", "--all", "--format", "{{.Names}}"], capture_output=True, text=True).stdout.split()
                if any(n.startswith("flytesharp-{{{run}}}-") for n in _names):
                    _seen = "yes"
                    break
                time.sleep(0.2)
            with open({{{System.Text.Json.JsonSerializer.Serialize(marker)}}}, "w") as _f:
                _f.write(_seen)

        """;

    private async Task<(ContainerPythonExecutor Executor, string Prefix)> ExecutorAsync(PodmanProject project, TaskEnvironment env, CancellationToken ct)
    {
        var bundle = await CodeBundler.CreateAsync(project.SrcDir, BundleOptions.For(project.Config), ct);
        var sandbox = Path.Combine(project.Root, "sandbox");
        var context = new PythonExecutorContext("late-" + Guid.NewGuid().ToString("N")[..8], sandbox,
            new PythonBundle(bundle.Digest, null, new Uri(bundle.ArchivePath).AbsoluteUri, sandbox), project.Config, project.SrcDir);
        var images = new BuildingImageSource(project.Config with { RootDir = project.SrcDir }, c => ImageBuildServices.CreateAsync(project.Config, cancellationToken: c));
        await images.GetAsync(env, ct);
        return (new ContainerPythonExecutor(context, images), "flytesharp-" + context.RunName);
    }

    private static RunOptions Options(CancellationToken ct) =>
        new() { Mode = ExecutionMode.Container, CancellationToken = ct };
}
