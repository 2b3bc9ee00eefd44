using System.Security.Cryptography;
using FlyteSharp.Building;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

public class ContainerFaultTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task Run_TaskOverMemoryLimit_FailsAsOutOfMemory()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/hog.py", """
            def hog(mb: int) -> int:
                blocks = [bytearray(1024 * 1024) for _ in range(mb)]
                return len(blocks)
            """);
        var env = new TaskEnvironment("hog", Image.FromDebianBase("3.11").WithCodeBundle(), new Resources(Memory: "48Mi"));
        var hog = env.PythonTask<int, int>("app.hog:hog");

        var run = await project.Runtime.Run(hog, 400, Options(ct));
        var status = await run.WaitAsync(ct);

        Assert.Equal(RunStatus.Failed, status);
        var oom = Assert.IsType<ContainerOutOfMemoryException>(Unwrap(run.Error));
        Assert.Equal("48Mi", oom.MemoryLimit);
        Assert.Contains("ran out of memory", oom.Message);
        Assert.Contains("Resources.Memory", oom.Fix);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    [Fact]
    public async Task Run_Cancelled_StopsAndRemovesTheContainer()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/slow.py", """
            import time

            def slow(seconds: int) -> int:
                time.sleep(seconds)
                return seconds
            """);
        var env = new TaskEnvironment("slow", Image.FromDebianBase("3.11").WithCodeBundle());
        var slow = env.PythonTask<int, int>("app.slow:slow");

        var run = await project.Runtime.Run(slow, 300, Options(ct));
        var prefix = "flytesharp-" + run.Name;
        for (var i = 0; i < 600 && (await Podman.ContainersAsync(prefix)).Count == 0; i++)
        {
            await Task.Delay(100, ct);
        }

        Assert.NotEmpty(await Podman.ContainersAsync(prefix));
        run.Cancel();
        var status = await run.WaitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);

        Assert.Equal(RunStatus.Cancelled, status);
        Assert.Empty(await Podman.ContainersAsync(prefix));
    }

    [Fact]
    public async Task Run_ImageWithoutWorkingPython_SaysTheRunnerCannotRun()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def one() -> int:\n    return 1\n");
        var env = new TaskEnvironment("broken", Image.FromDebianBase("3.11").WithCommands("rm -f /usr/bin/python3.11").WithCodeBundle());
        var one = env.PythonTask<int>("app.ops:one");

        // The signature check runs from the bundle locally; the image's interpreter is first needed by the action.
        var run = await project.Runtime.Run(one, Options(ct));
        var status = await run.WaitAsync(ct);

        Assert.Equal(RunStatus.Failed, status);
        var message = run.Error!.ToString();
        Assert.Contains("could not run FlyteSharp's Python runner", message);
        Assert.Contains("environment 'broken'", message);
    }

    [Fact]
    public async Task Run_ImageBuildFails_ReportsBuilderErrorAndDockerfileLine()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def one() -> int:\n    return 1\n");
        var env = new TaskEnvironment("bad", Image.FromDebianBase("3.11").WithCommands("echo failing on purpose && exit 7").WithCodeBundle());
        var one = env.PythonTask<int>("app.ops:one");

        var ex = await Assert.ThrowsAsync<ImageBuildException>(() => project.Runtime.Run(one, Options(ct)));

        Assert.NotNull(ex.Line);
        Assert.Contains("exit 7", ex.Instruction);
        Assert.Contains($"Dockerfile line {ex.Line}", ex.Message);
        Assert.Contains("exit status 7", ex.Message);
    }

    [Fact]
    public async Task ExecuteAsync_BundleInStoreDoesNotMatchDigest_ContainerRefusesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def one() -> int:\n    return 1\n");
        var env = new TaskEnvironment("tamper", Image.FromDebianBase("3.11").WithCodeBundle());
        var one = env.PythonTask<int>("app.ops:one");

        // The store holds other bytes under the bundle's name: a corrupted or replaced blob.
        var bundle = await FlyteSharp.Bundles.CodeBundler.CreateAsync(project.SrcDir, FlyteSharp.Bundles.BundleOptions.For(project.Config), ct);
        var tampered = Path.Combine(project.Root, "tampered.tar.gz");
        var bytes = await File.ReadAllBytesAsync(bundle.ArchivePath, ct);
        bytes[^5] ^= 0xff;
        await File.WriteAllBytesAsync(tampered, bytes, ct);
        Assert.NotEqual(bundle.Digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var sandbox = Path.Combine(project.Root, "sandbox");
        var context = new PythonExecutorContext("tamper-run", sandbox, new PythonBundle(bundle.Digest, null, new Uri(tampered).AbsoluteUri, sandbox), project.Config, project.SrcDir);
        await using var executor = ContainerPythonExecutor.Create(context);

        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => executor.ExecuteAsync(
            new PythonTaskRequest(one.Python!, env, "{}", "a1", (_, _) => { }), ct));

        Assert.Contains("refused the code bundle", ex.Message);
        Assert.Contains("refusing to unpack", ex.Message);
        Assert.Contains(bundle.Digest, ex.Message);
    }

    private static RunOptions Options(CancellationToken ct) =>
        new() { Mode = ExecutionMode.Container, CancellationToken = ct };

    private static Exception? Unwrap(Exception? ex)
    {
        while (ex is not null and not ContainerOutOfMemoryException && ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}
