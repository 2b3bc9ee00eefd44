using System.Globalization;
using System.Text;
using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Processes;
using FlyteSharp.Runner;
using FlyteSharp.Storage;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// Runs each Python action in its own container of the environment's image: resources mapped to
/// <c>--cpus</c>/<c>--memory</c>, the run's bundle fetched from the store and verified and unpacked by
/// the runner at container start, inputs and outputs through a mounted per-action directory, output
/// lines streamed into the run's log, the container stopped on cancellation. Removal happens after the result is
/// returned (see <see cref="ContainerTeardowns"/>) and is awaited by <see cref="DisposeAsync"/>, before the run completes.
/// </summary>
internal sealed class ContainerPythonExecutor : IPythonTaskExecutor
{
    private readonly PythonExecutorContext _context;
    private readonly IContainerImageSource _images;
    private readonly TimeProvider _time;
    private readonly string _ioRoot;
    private readonly Lazy<Task<string?>> _bundleUri;
    private readonly ContainerLauncher _launcher;
    private readonly ReusableEnvironments _reusable;
    private readonly BundleCredentialFiles _credentials;
    private readonly Lock _prestartGate = new();
    private PrestartedAction? _prestarted;
    private int _sequence;

    public ContainerPythonExecutor(PythonExecutorContext context, IContainerImageSource images, TimeProvider? timeProvider = null)
    {
        _context = context;
        _images = images;
        _time = timeProvider ?? TimeProvider.System;
        _ioRoot = Path.Combine(context.SandboxDirectory, "containers");
        Directory.CreateDirectory(_ioRoot);
        _launcher = new ContainerLauncher(_ioRoot, _time);
        _bundleUri = new(() => PutBundleAsync(CancellationToken.None));
        _credentials = new BundleCredentialFiles(context.Config, _ioRoot, _time);
        _reusable = new ReusableEnvironments(context, _time, _launcher.Teardowns, BundleSourceAsync,
            (host, repository, ct) => WriteAuthFileAsync(host, repository, Interlocked.Increment(ref _sequence), ct));
    }

    /// <summary>The executor for a fast-deploy container run: images built when their tag is missing.</summary>
    public static ContainerPythonExecutor Create(PythonExecutorContext context) =>
        new(context, new BuildingImageSource(context.Config with { RootDir = context.RootDir }, ct => ImageBuildServices.CreateAsync(context.Config, cancellationToken: ct), context.BuildProgress));

    /// <summary>Containers that failed after their successful result was returned (one line each; warned about at disposal).</summary>
    internal IReadOnlyList<string> LateExits => _launcher.Teardowns.LateExits;

    /// <summary>Raised after each action with where its time went (used by bench/).</summary>
    internal static event Action<ContainerActionTimings>? ActionTimed;

    public async Task<IReadOnlyList<PythonFunctionInfo>> DescribeAsync(TaskEnvironment environment, IReadOnlyList<PythonTaskReference> tasks, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var image = await _images.GetAsync(environment, cancellationToken).ConfigureAwait(false);
        var imageReady = _time.GetElapsedTime(started);
        if (image.CodeDirectory is null && await LocalDescribe.TryAsync(_context, environment, tasks, cancellationToken).ConfigureAwait(false) is { } local)
        {
            ActionTimed?.Invoke(new ContainerActionTimings("describe", environment.Name, imageReady, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero,
                _time.GetElapsedTime(started)));
            return local;
        }

        var outcome = await RunContainerAsync(environment, image, "describe", RunnerProtocol.DescribeArguments(tasks.Select(t => t.ToString())), null, null, withSecrets: false, cancellationToken).ConfigureAwait(false);
        var json = outcome.Result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (outcome.Result.ExitCode != 0 || json is null || !json.StartsWith('['))
        {
            throw Unusable(environment, image, outcome);
        }

        ActionTimed?.Invoke(new ContainerActionTimings("describe", environment.Name, imageReady, outcome.Exited - outcome.Launched, TimeSpan.Zero, TimeSpan.Zero,
            outcome.ResultRead - outcome.Exited, _time.GetElapsedTime(started)));
        using var doc = JsonDocument.Parse(json);
        return RunnerProtocol.ParseDescribe(doc.RootElement);
    }

    public async Task<TaskReply> ExecuteAsync(PythonTaskRequest request, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var image = await _images.GetAsync(request.Environment, cancellationToken).ConfigureAwait(false);
        var imageReady = _time.GetElapsedTime(started);
        if (request.Environment.Reuse is not null)
        {
            var runtime = await _images.RuntimeAsync(cancellationToken).ConfigureAwait(false);
            _launcher.RecordRuntime(runtime);
            return await _reusable.ExecuteAsync(request, image, runtime, cancellationToken).ConfigureAwait(false);
        }

        var outcome = TryClaim(request) is { } prestarted ? await prestarted.RunAsync(request, cancellationToken).ConfigureAwait(false) : null;
        outcome ??= await RunContainerAsync(
            request.Environment, image, request.ActionId,
            ["--task", request.Task.ToString(), "--inputs", ContainerRunSpec.IoMount + "/inputs.json", "--outputs", ContainerRunSpec.IoMount + "/outputs.json"],
            request.InputsJson, request.Log, withSecrets: true, cancellationToken, request.Placed, request.InputsFile).ConfigureAwait(false);

        var code = outcome.Result.ExitCode;
        if (outcome.OutOfMemory)
        {
            throw new ContainerOutOfMemoryException(request.Task.ToString(), request.Environment.Name, request.Environment.Resources.Memory);
        }

        using var output = outcome.OutputsJson is null ? null : RunnerProtocol.ParseReply(outcome.OutputsJson, "container");
        if (output is null)
        {
            throw Unusable(request.Environment, image, outcome);
        }

        var root = output.RootElement;
        var reply = RunnerProtocol.ParseCall(root, code, "container");
        ReportTimings(request.Environment.Name, root, outcome, imageReady, started);
        return reply;
    }

    /// <summary>
    /// Starts the container of the run's root action before the run's pre-run check has finished: the container starts,
    /// fetches and unpacks the bundle, and its runner then waits for its inputs on stdin (<c>--inputs -</c>), which
    /// <see cref="ExecuteAsync"/> of the matching action sends. So the container start overlaps the check instead of
    /// following it. A run that never executes that action (its check failed, it was cancelled) stops and removes the
    /// container when the executor is disposed. Only for a bundle run of a single-shot environment, whose image carries
    /// this driver's runner (its bytes are part of the image tag); a deployed version's image may carry an older one.
    /// </summary>
    /// <param name="environment">The root task's environment.</param>
    /// <param name="task">The root task's function.</param>
    /// <param name="cancellationToken">The run start's cancellation.</param>
    public void Prestart(TaskEnvironment environment, PythonTaskReference task, CancellationToken cancellationToken)
    {
        if (environment.Reuse is not null || _context.Bundle.Digest.Length == 0)
        {
            return;
        }

        var prestarted = new PrestartedAction(environment, task, cancellationToken);
        lock (_prestartGate)
        {
            if (_prestarted is not null)
            {
                prestarted.Dispose();
                return;
            }

            _prestarted = prestarted;
        }

        prestarted.Start(async stop =>
        {
            var image = await _images.GetAsync(environment, stop).ConfigureAwait(false);
            if (image.CodeDirectory is not null)
            {
                // Code baked into the image: not this run's bundle and runner, so not started early.
                return null;
            }

            return await RunContainerAsync(
                environment, image, "root",
                ["--task", task.ToString(), "--inputs", "-", "--outputs", ContainerRunSpec.IoMount + "/outputs.json"],
                null, prestarted.Log, withSecrets: true, stop, prestarted.Placed, standardInput: prestarted.Input).ConfigureAwait(false);
        });
    }

    private PrestartedAction? TryClaim(PythonTaskRequest request)
    {
        lock (_prestartGate)
        {
            if (_prestarted is { } p && ReferenceEquals(p.Environment, request.Environment) && p.Function.Equals(request.Task))
            {
                _prestarted = null;
                return p;
            }

            return null;
        }
    }

    /// <summary>Waits for every container removal still under way (bounded), then releases the registry client.</summary>
    public async ValueTask DisposeAsync()
    {
        PrestartedAction? unclaimed;
        lock (_prestartGate)
        {
            unclaimed = _prestarted;
            _prestarted = null;
        }

        if (unclaimed is not null)
        {
            await unclaimed.AbandonAsync().ConfigureAwait(false);
        }

        await _reusable.DisposeAsync().ConfigureAwait(false);
        var failures = await _launcher.DrainAsync().ConfigureAwait(false);
        _credentials.Dispose();
        await _launcher.WarnAsync(_context.RunName, failures).ConfigureAwait(false);
    }

    private async Task<ContainerOutcome> RunContainerAsync(
        TaskEnvironment environment, ContainerImage image, string actionId, IReadOnlyList<string> runnerArguments,
        string? inputsJson, Action<string, string>? log, bool withSecrets, CancellationToken cancellationToken, Action<string?, string>? placed = null, string? inputsFile = null,
        Stream? standardInput = null)
    {
        // Secrets first: a missing one fails the action before any container starts.
        var secrets = withSecrets ? _context.Secrets.Resolve(environment) : [];
        var runtime = await _images.RuntimeAsync(cancellationToken).ConfigureAwait(false);
        var n = Interlocked.Increment(ref _sequence);
        var ioDir = Path.Combine(_ioRoot, n.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(ioDir);
        if (inputsFile is not null)
        {
            File.Copy(inputsFile, Path.Combine(ioDir, "inputs.json"));
        }
        else if (inputsJson is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(ioDir, "inputs.json"), inputsJson, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        }

        var bundle = image.CodeDirectory is null ? await BundleSourceAsync(cancellationToken).ConfigureAwait(false) : null;
        // Both are made inside the try: whichever fails second, the finally deletes what the first one wrote.
        string? authFile = null;
        string? secretDirectory = null;
        try
        {
            authFile = bundle?.Registry is { } registry ? await WriteAuthFileAsync(registry.Host, registry.Repository, n, cancellationToken).ConfigureAwait(false) : null;
            secretDirectory = secrets.Count == 0 ? null : SecretFiles.CreatePrivateDirectory(_context.SandboxDirectory);
            var (secretArguments, secretMounts) = SecretDelivery(secrets, secretDirectory);
            var spec = new ContainerRunSpec(
                runtime, ContainerLauncher.ContainerName(_context.RunName, n.ToString(CultureInfo.InvariantCulture)), image, environment.Resources, ioDir, bundle, bundle is null ? null : _context.Bundle.Digest,
                [.. secretArguments, .. runnerArguments],
                ContainerLabels.For(_context.RunName, actionId, environment.Name),
                environment.EnvVars, secretMounts, authFile)
            {
                StandardInput = standardInput,
            };
            placed?.Invoke(image.Uri, $"{runtime} container {spec.Name} ({Environment.MachineName})");
            return await _launcher.RunAsync(spec, environment.Resources, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            BundleCredentialFiles.Delete(authFile);
            if (secretDirectory is not null)
            {
                SecretFiles.Delete(secretDirectory);
            }
        }
    }

    /// <summary>The run's bundle as a container reaches it (put into the store on first use).</summary>
    private async Task<ContainerBundleSource?> BundleSourceAsync(CancellationToken cancellationToken) =>
        ContainerBundleSource.For(await _bundleUri.Value.WaitAsync(cancellationToken).ConfigureAwait(false), _context.Bundle.ArchivePath, _context.Bundle.Digest,
            _context.Config.EffectiveStoreUri, _context.Config.InsecureRegistries);

    /// <summary>
    /// How secrets reach the container: each value as a file in <paramref name="directory"/>, mounted read-only — at the
    /// secret's mount path, or (for an environment variable) under <see cref="SecretsMount"/> with the runner told to set
    /// the variable from it (<c>--secret-env NAME=PATH</c>) before it imports the task.
    /// </summary>
    internal static (IReadOnlyList<string> RunnerArguments, IReadOnlyList<KeyValuePair<string, string>> Mounts) SecretDelivery(
        IReadOnlyList<ResolvedSecret> secrets, string? directory)
    {
        var arguments = new List<string>();
        var mounts = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < secrets.Count; i++)
        {
            var secret = secrets[i].Secret;
            var hostFile = Path.Combine(directory!, i.ToString(CultureInfo.InvariantCulture));
            SecretFiles.Write(hostFile, secrets[i].Value, directory!);
            if (secret.FilePath is { } file)
            {
                mounts.Add(new(hostFile, file));
            }

            if (secret.EnvironmentVariable is { } variable)
            {
                var inContainer = $"{SecretsMount}/{i.ToString(CultureInfo.InvariantCulture)}";
                mounts.Add(new(hostFile, inContainer));
                arguments.AddRange(["--secret-env", $"{variable}={inContainer}"]);
            }
        }

        return (arguments, mounts);
    }

    /// <summary>Where secrets delivered as environment variables are mounted as files for the runner to read.</summary>
    internal const string SecretsMount = "/run/flytesharp/secrets";

    /// <summary>For a bundle in a registry that wants credentials: the credentials file the container mounts (<see cref="BundleCredentialFiles"/>); null when none is needed.</summary>
    private Task<string?> WriteAuthFileAsync(string host, string repository, int n, CancellationToken cancellationToken) =>
        _credentials.WriteAsync(host, repository, _context.Bundle.Digest, n.ToString(CultureInfo.InvariantCulture), cancellationToken);

    /// <summary>The bundle's blob URI in the run's store, uploading it once (idempotent: an existing digest is not sent again).</summary>
    private async Task<string?> PutBundleAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var (blobUri, uploaded) = await RunBundles.UploadAsync(_context, cancellationToken).ConfigureAwait(false);
        if (uploaded)
        {
            var took = _time.GetElapsedTime(started);
            ActionTimed?.Invoke(new ContainerActionTimings("upload", "", TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, took));
        }

        return blobUri;
    }

    private void ReportTimings(string environment, JsonElement root, ContainerOutcome outcome, TimeSpan imageReady, long started)
    {
        if (ActionTimed is not { } handler || !root.TryGetProperty("timings", out var t))
        {
            return;
        }

        var runnerStart = DateTimeOffset.FromUnixTimeMilliseconds((long)(t.GetProperty("started").GetDouble() * 1000));
        var unpack = TimeSpan.FromSeconds(t.TryGetProperty("bundle", out var b) ? b.GetDouble() : 0);
        var run = TimeSpan.FromSeconds(t.GetProperty("task").GetDouble());
        var runnerEnd = runnerStart + unpack + run;
        handler(new ContainerActionTimings(
            "execute",
            environment,
            imageReady,
            runnerStart - outcome.Launched,
            unpack,
            run,
            outcome.ResultRead - (runnerEnd < outcome.Exited ? runnerEnd : outcome.Exited),
            _time.GetElapsedTime(started)));
    }

    private static FlyteSharpException Unusable(TaskEnvironment environment, ContainerImage image, ContainerOutcome outcome)
    {
        var output = CliProcess.Tail(outcome.Result.Combined, 12);
        if (outcome.OutOfMemory)
        {
            return new ContainerOutOfMemoryException("describe", environment.Name, environment.Resources.Memory);
        }

        if (outcome.Result.ExitCode == 137)
        {
            return new FlyteSharpException($"the container of environment '{environment.Name}' was killed (SIGKILL, exit code 137):\n{output}",
                fix: "check whether something else stopped it (podman stop/kill, the host's OOM killer)");
        }

        if (outcome.Result.ExitCode == RunnerProtocol.BundleRefusedExitCode)
        {
            return new FlyteSharpException($"the container refused the code bundle:\n{output}",
                fix: "the bundle in the store is not the one this run recorded, or the container cannot reach the store");
        }

        return new FlyteSharpException(
            $"image {image.Uri} of environment '{environment.Name}' could not run FlyteSharp's Python runner " +
            $"({image.PythonExecutable} {image.RunnerPath}, exit code {outcome.Result.ExitCode}):\n{output}",
            fix: "base the image on one with Python 3.9 or newer (Image.FromDebianBase or a python:3.x image), and keep the FlyteSharp runner layer");
    }
}
