using System.Diagnostics;
using FlyteSharp.Building;
using FlyteSharp.Bundles;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;
using FlyteSharp.Images;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.IntegrationTests.Containers;

public class ContainerTeardownTests(DistributionRegistry registry, BaseImage baseImage)
{
    private readonly BaseImage _baseImage = baseImage;

    [Fact]
    public async Task ExecuteAsync_SlowRemoval_ResultReturnsBeforeTheContainerIsRemovedAndDisposeRemovesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def add(x: int) -> int:\n    return x + 1\n");
        var env = new TaskEnvironment("teardown", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, int>("app.ops:add");

        // The real podman, with `rm` made slow (3 s) so the order of result and removal can be seen.
        var runtime = Path.Combine(project.Root, "slow-rm-podman");
        await File.WriteAllTextAsync(runtime, "#!/bin/sh\nif [ \"$1\" = rm ]; then sleep 3; fi\nexec podman \"$@\"\n", ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(runtime, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var bundle = await CodeBundler.CreateAsync(project.SrcDir, BundleOptions.For(project.Config), ct);
        var sandbox = Path.Combine(project.Root, "sandbox");
        var context = new PythonExecutorContext("teardown-" + Guid.NewGuid().ToString("N")[..8], sandbox,
            new PythonBundle(bundle.Digest, null, new Uri(bundle.ArchivePath).AbsoluteUri, sandbox), project.Config, project.SrcDir);
        var images = new BuildingImageSource(project.Config with { RootDir = project.SrcDir }, c => ImageBuildServices.CreateAsync(project.Config, cancellationToken: c));
        var executor = new ContainerPythonExecutor(context, new SlowRemovalSource(images, runtime));
        var prefix = "flytesharp-" + context.RunName;
        await images.GetAsync(env, ct); // build the image first: not part of what is timed

        var clock = Stopwatch.StartNew();
        var result = await executor.ExecuteAsync(new PythonTaskRequest(add.Python!, env, "{\"x\": 41}", "a1", (_, _) => { }), ct);
        var returnedAfter = clock.Elapsed;
        var leftWhenReturned = await Podman.ContainersAsync(prefix);
        await executor.DisposeAsync();
        var disposedAfter = clock.Elapsed;

        Assert.Equal("42", result.OutputJson);
        Assert.Single(leftWhenReturned); // the result came back while the container still existed
        Assert.True(disposedAfter - returnedAfter >= TimeSpan.FromSeconds(2), $"dispose did not wait for the removal ({returnedAfter} → {disposedAfter})");
        Assert.Empty(await Podman.ContainersAsync(prefix));
    }

    [Fact]
    public async Task Run_OutputReadBeforeRemoval_RunEndLeavesNoContainer()
    {
        var ct = TestContext.Current.CancellationToken;
        using var project = new PodmanProject(registry);
        project.WritePython("app/ops.py", "def add(x: int) -> int:\n    return x + 1\n");
        var env = new TaskEnvironment("teardown", Image.FromDebianBase("3.11").WithCodeBundle());
        var add = env.PythonTask<int, int>("app.ops:add");
        var options = new RunOptions { Mode = ExecutionMode.Container, CancellationToken = ct };

        var run = await project.Runtime.Run(add, 1, options);
        var output = await run.GetOutputAsync(ct);
        var statusWhenOutput = run.Status;
        var status = await run.WaitAsync(ct);

        Assert.Equal(2, output);
        Assert.Equal(RunStatus.Succeeded, statusWhenOutput);
        Assert.Equal(RunStatus.Succeeded, status);
        Assert.Equal(RunStatus.Succeeded, (await run.GetRecordAsync(ct)).Status);
        Assert.Empty(await Podman.ContainersAsync("flytesharp-" + run.Name));
    }

    private sealed class SlowRemovalSource(IContainerImageSource inner, string runtime) : IContainerImageSource
    {
        public Task<string> RuntimeAsync(CancellationToken cancellationToken) => Task.FromResult(runtime);

        public Task<ContainerImage> GetAsync(TaskEnvironment environment, CancellationToken cancellationToken) => inner.GetAsync(environment, cancellationToken);
    }
}
