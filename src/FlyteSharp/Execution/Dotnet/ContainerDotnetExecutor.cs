using System.Globalization;
using System.Text;
using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Processes;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// Runs each C# action whose environment has a .NET image in its own container of that image, through the same
/// <see cref="ContainerLauncher"/> as Python actions: resources as <c>--cpus</c>/<c>--memory</c>, owner labels, secrets
/// as read-only files, output lines streamed into the run's log, the container stopped on cancellation, out-of-memory
/// reported as for Python actions. The .NET worker in the image fetches and verifies the task's .NET bundle (a private
/// store's credentials as a read-only file, <see cref="BundleCredentialFiles"/>) or loads the assemblies a full-build
/// deploy baked into the image, runs the task and writes its reply to the mounted per-action folder. An environment with
/// a <see cref="ReusePolicy"/> runs its actions on warm containers instead (<see cref="ReusableDotnetEnvironments"/>).
/// </summary>
internal sealed class ContainerDotnetExecutor : IDotnetTaskExecutor
{
    private readonly DotnetExecutorContext _context;
    private readonly IContainerImageSource _images;
    private readonly TimeProvider _time;
    private readonly ContainerLauncher _launcher;
    private readonly IDotnetCodeSource _code;
    private readonly BundleCredentialFiles _credentials;
    private readonly ReusableDotnetEnvironments _reusable;
    private int _sequence;

    /// <summary>Creates the executor.</summary>
    /// <param name="context">The run.</param>
    /// <param name="images">Each environment's image.</param>
    /// <param name="code">Where each task's code comes from; default the run's own .NET bundles.</param>
    /// <param name="timeProvider">The clock.</param>
    public ContainerDotnetExecutor(DotnetExecutorContext context, IContainerImageSource images, IDotnetCodeSource? code = null, TimeProvider? timeProvider = null)
    {
        _context = context;
        _images = images;
        _time = timeProvider ?? TimeProvider.System;
        var ioRoot = Path.Combine(context.SandboxDirectory, "containers");
        _launcher = new ContainerLauncher(ioRoot, _time);
        _code = code ?? new DotnetRunBundles(context.Config);
        _credentials = new BundleCredentialFiles(context.Config, ioRoot, _time);
        _reusable = new ReusableDotnetEnvironments(context, _time, _launcher.Teardowns, _credentials.WriteAsync);
    }

    /// <summary>The executor for a container run: images built when their tag is missing.</summary>
    public static ContainerDotnetExecutor Create(DotnetExecutorContext context) =>
        new(context, new BuildingImageSource(context.Config, ct => ImageBuildServices.CreateAsync(context.Config, cancellationToken: ct), context.BuildProgress));

    /// <summary>The executor for a run of a deployed version: its recorded images and code, nothing built or bundled.</summary>
    public static ContainerDotnetExecutor Create(DotnetExecutorContext context, DeployedSources deployed) => new(context, deployed.Images, deployed.DotnetCode);

    /// <summary>Raised after each action with where its time went (used by bench/).</summary>
    internal static event Action<ContainerActionTimings>? ActionTimed;

    public async Task<TaskReply> ExecuteAsync(DotnetTaskRequest request, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var task = request.Task;
        var environment = task.Environment;
        var code = await _code.CodeForAsync(task, cancellationToken).ConfigureAwait(false);
        request.Log("flytesharp", code.Description);

        // Secrets first: a missing one fails the action before any container starts.
        var secrets = _context.Secrets.Resolve(environment);
        var image = await _images.GetAsync(environment, cancellationToken).ConfigureAwait(false);
        var imageReady = _time.GetElapsedTime(started);
        var runtime = await _images.RuntimeAsync(cancellationToken).ConfigureAwait(false);
        if (environment.Reuse is not null)
        {
            _launcher.RecordRuntime(runtime);
            var source = code.InImage
                ? null
                : ContainerBundleSource.For(code.BundleUri, code.ArchivePath, code.BundleDigest!, _context.Config.EffectiveStoreUri, _context.Config.InsecureRegistries);
            if (await _reusable.ExecuteAsync(request, code, source, image, runtime, secrets, cancellationToken).ConfigureAwait(false) is { } replicaReply)
            {
                return replicaReply;
            }

            request.Log("flytesharp", $"every replica of environment '{environment.Name}' is in use and a caller of task '{task.Name}' holds one " +
                "(waiting for it could be forever): this action runs in a container of its own");
        }

        var n = "dotnet-" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
        var ioDir = Path.Combine(_launcher.IoRoot, n);
        Directory.CreateDirectory(ioDir);
        if (request.InputsFile is not null)
        {
            File.Copy(request.InputsFile, Path.Combine(ioDir, "inputs.json"));
        }
        else
        {
            await File.WriteAllTextAsync(Path.Combine(ioDir, "inputs.json"), request.InputsJson, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        }

        var bundle = code.InImage
            ? null
            : ContainerBundleSource.For(code.BundleUri, code.ArchivePath, code.BundleDigest!, _context.Config.EffectiveStoreUri, _context.Config.InsecureRegistries);
        string? authFile = null;
        string? secretDirectory = null;
        DotnetControllerAccess? controller = null;
        ContainerOutcome outcome;
        try
        {
            authFile = bundle?.Registry is { } registry
                ? await _credentials.WriteAsync(registry.Host, registry.Repository, code.BundleDigest!, n, cancellationToken).ConfigureAwait(false)
                : null;
            secretDirectory = secrets.Count == 0 ? null : Secrets.SecretFiles.CreatePrivateDirectory(_context.SandboxDirectory);
            var (secretArguments, secretMounts) = ContainerPythonExecutor.SecretDelivery(secrets, secretDirectory);
            controller = request.Controller?.Invoke();
            var command = DotnetWorkerCommand.For(bundle?.Source, code.BundleDigest, code.AssemblyFile, task.Name,
            [
                "--inputs", ContainerRunSpec.IoMount + "/inputs.json", "--outputs", ContainerRunSpec.IoMount + "/outputs.json",
                "--run", _context.RunName, "--action", request.ActionId, .. secretArguments, .. controller?.WorkerArguments ?? [],
            ], authFile is null ? null : RunnerCommand.BundleAuthFile);
            var spec = new ContainerRunSpec(runtime, ContainerLauncher.ContainerName(_context.RunName, n), image, environment.Resources, ioDir, bundle, code.BundleDigest,
                [], ContainerLabels.For(_context.RunName, request.ActionId, environment.Name), environment.EnvVars, secretMounts, authFile)
            {
                Command = command,
                ExtraMounts = controller?.Mounts ?? [],
            };
            request.Placed(image.Uri, $"{runtime} container {spec.Name} ({Environment.MachineName})");
            outcome = await _launcher.RunAsync(spec, environment.Resources, request.Log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            BundleCredentialFiles.Delete(authFile);
            controller?.Registration.Dispose();
            if (secretDirectory is not null)
            {
                Secrets.SecretFiles.Delete(secretDirectory);
            }
        }

        if (outcome.OutOfMemory)
        {
            throw new ContainerOutOfMemoryException(task.Name, environment.Name, environment.Resources.Memory);
        }

        if (outcome.OutputsJson is null)
        {
            throw Unusable(environment, image, outcome);
        }

        using var reply = RunnerProtocol.ParseReply(outcome.OutputsJson, "container");
        var result = RunnerProtocol.ParseCall(reply.RootElement, outcome.Result.ExitCode, "container");
        ReportTimings(environment.Name, reply.RootElement, outcome, imageReady, started);
        if (result.Error?.Type == typeof(OutOfMemoryException).FullName && environment.Resources.MemoryBytes is not null)
        {
            // The runtime honours the container's limit (its GC heap limit derives from it): hitting it is the same out-of-memory.
            throw new ContainerOutOfMemoryException(task.Name, environment.Name, environment.Resources.Memory);
        }

        return result;
    }

    /// <summary>Removes the run's replicas, waits for every container removal still under way (bounded), then releases the registry client.</summary>
    public async ValueTask DisposeAsync()
    {
        await _reusable.DisposeAsync().ConfigureAwait(false);
        var failures = await _launcher.DrainAsync().ConfigureAwait(false);
        _credentials.Dispose();
        await _launcher.WarnAsync(_context.RunName, failures).ConfigureAwait(false);
    }

    private void ReportTimings(string environment, JsonElement root, ContainerOutcome outcome, TimeSpan imageReady, long started)
    {
        if (ActionTimed is not { } handler || !root.TryGetProperty("timings", out var t))
        {
            return;
        }

        var workerStart = DateTimeOffset.FromUnixTimeMilliseconds((long)(t.GetProperty("started").GetDouble() * 1000));
        var unpack = TimeSpan.FromSeconds(t.GetProperty("bundle").GetDouble());
        var run = TimeSpan.FromSeconds(t.GetProperty("task").GetDouble());
        var workerEnd = workerStart + unpack + run;
        handler(new ContainerActionTimings("execute", environment, imageReady, workerStart - outcome.Launched, unpack, run,
            outcome.ResultRead - (workerEnd < outcome.Exited ? workerEnd : outcome.Exited), _time.GetElapsedTime(started)));
    }

    private static FlyteSharpException Unusable(TaskEnvironment environment, ContainerImage image, ContainerOutcome outcome)
    {
        var output = CliProcess.Tail(outcome.Result.Combined, 12);
        if (outcome.Result.ExitCode == 137)
        {
            return new FlyteSharpException($"the container of environment '{environment.Name}' was killed (SIGKILL, exit code 137):\n{output}",
                fix: "check whether something else stopped it (podman stop/kill, the host's OOM killer)");
        }

        return new FlyteSharpException(
            $"image {image.Uri} of environment '{environment.Name}' could not run FlyteSharp's .NET worker " +
            $"({DotnetWorkerCommand.DotnetExecutable} {DotnetWorkerCommand.EntryPath}, exit code {outcome.Result.ExitCode}):\n{output}",
            fix: "base the environment on Image.FromDotnetBase(…) (a .NET runtime image with dotnet on PATH; [images] dotnet_base), and keep its worker layer");
    }
}
