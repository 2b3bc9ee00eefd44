using System.Net;
using System.Text;
using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// Runs each Python action in its own Kubernetes Pod of the environment's image (built and pushed first when its
/// tag is missing): resources as requests/limits, the runner started with the bundle's oci:// blob URL and digest,
/// inputs in an environment variable, the result read back from the runner's marked line in the pod log, the log
/// streamed into the run, completion awaited with a watch, the pod deleted afterwards and on cancellation. Environments
/// with a <see cref="ReusePolicy"/> run on long-lived Pods instead (<see cref="ReusablePods"/>), which pull their calls
/// from the run's controller API when <c>[kubernetes] controller_url</c> says where Pods reach it.
/// </summary>
internal sealed class KubernetesPythonExecutor : IPythonTaskExecutor
{
    /// <summary>
    /// Largest inputs object passed in the pod's environment. One environment string may not exceed 128 KiB on
    /// Linux (MAX_ARG_STRLEN), and the pod object itself has to fit in etcd.
    /// </summary>
    internal const int MaxInputsBytes = 96 * 1024;

    private readonly PythonExecutorContext _context;
    private readonly IContainerImageSource _images;
    private readonly IKubernetes _client;
    private readonly KubernetesPods _pods;
    private readonly bool _ownsClient;
    private readonly TimeProvider _time;
    private readonly Lazy<Task<string>> _bundleUri;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _reuseWarned = new(StringComparer.Ordinal);
    private readonly ReusablePods? _reusable;
    private int _sequence;

    /// <summary>Creates the executor; refuses a run whose bundle the cluster could not fetch (a file:// store).</summary>
    /// <param name="context">The run.</param>
    /// <param name="images">Where the environments' images come from.</param>
    /// <param name="client">The run's API client.</param>
    /// <param name="namespaceName">The namespace Pods go to.</param>
    /// <param name="ownsClient">Dispose <paramref name="client"/> with the executor.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="sharedClient">Makes a client of the process's own for <see cref="ReuseScope.Global"/> replica Pods, which outlive the run.</param>
    public KubernetesPythonExecutor(PythonExecutorContext context, IContainerImageSource images, IKubernetes client, string namespaceName,
        bool ownsClient = false, TimeProvider? timeProvider = null, Func<IKubernetes>? sharedClient = null)
    {
        RequireClusterStore(context);
        _context = context;
        _images = images;
        _client = client;
        _ownsClient = ownsClient;
        Namespace = namespaceName;
        _time = timeProvider ?? TimeProvider.System;
        _pods = new KubernetesPods(client, namespaceName, _time);
        _bundleUri = new(() => PutBundleAsync(CancellationToken.None));
        if (context.Controller is { } controller && context.Config.ControllerUrl is not null)
        {
            _reusable = new ReusablePods(context, _pods, controller, _time, sharedClient);
        }
    }

    /// <summary>The namespace pods are created in.</summary>
    public string Namespace { get; }

    /// <summary>The executor of a fast-deploy kubernetes run: images built when their tag is missing, the client from <c>[kubernetes]</c>.</summary>
    public static KubernetesPythonExecutor Create(PythonExecutorContext context)
    {
        RequireClusterStore(context);
        var configuration = KubernetesClients.Configuration(context.Config);
        var images = new BuildingImageSource(context.Config with { RootDir = context.RootDir }, ct => ImageBuildServices.CreateAsync(context.Config, cancellationToken: ct), context.BuildProgress);
        return new KubernetesPythonExecutor(context, images, new k8s.Kubernetes(configuration), KubernetesClients.Namespace(context.Config, configuration), ownsClient: true,
            sharedClient: () => new k8s.Kubernetes(configuration));
    }

    public async Task<IReadOnlyList<PythonFunctionInfo>> DescribeAsync(TaskEnvironment environment, IReadOnlyList<PythonTaskReference> tasks, CancellationToken cancellationToken)
    {
        // The same bundle checked with a local interpreter saves a pod per edit; the image answers when that cannot.
        if (await LocalDescribe.TryAsync(_context, environment, tasks, cancellationToken).ConfigureAwait(false) is { } local)
        {
            return local;
        }

        var image = await _images.GetAsync(environment, cancellationToken).ConfigureAwait(false);
        var log = new PodLog(null);
        var outcome = await RunPodAsync(environment, image, "describe", "describe", RunnerProtocol.DescribeArguments(tasks.Select(t => t.ToString())), null, log, cancellationToken).ConfigureAwait(false);
        var json = log.Tail().Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
        if (outcome.ExitCode != 0 || json is null || !json.StartsWith('['))
        {
            throw Unusable(environment, image, outcome, log);
        }

        using var doc = JsonDocument.Parse(json);
        return RunnerProtocol.ParseDescribe(doc.RootElement);
    }

    public async Task<TaskReply> ExecuteAsync(PythonTaskRequest request, CancellationToken cancellationToken)
    {
        if (request.Environment.Reuse is { } reuse)
        {
            if (_reusable is not null)
            {
                if (reuse.Scope == ReuseScope.Global && !_reusable.SharesGlobal && _reuseWarned.TryAdd(request.Environment.Name, 0))
                {
                    await Console.Error.WriteLineAsync($"warning: environment '{request.Environment.Name}' has ReuseScope.Global, which kubernetes mode applies per run " +
                        "unless [kubernetes] controller_url has a {port} placeholder (shared Pods pull from a port of their own): its Pods are deleted when the run ends").ConfigureAwait(false);
                }

                var replicaImage = await _images.GetAsync(request.Environment, cancellationToken).ConfigureAwait(false);
                var bundle = await BundleSourceAsync(replicaImage, cancellationToken).ConfigureAwait(false);
                return await _reusable.ExecuteAsync(request, replicaImage, bundle, cancellationToken).ConfigureAwait(false);
            }

            if (_reuseWarned.TryAdd(request.Environment.Name, 0))
            {
                // Said once per environment and run, not silently dropped: the run still works, one pod per action.
                await Console.Error.WriteLineAsync($"warning: environment '{request.Environment.Name}' has a ReusePolicy, which kubernetes mode applies only when " +
                    "[kubernetes] controller_url is set (the URL its Pods reach this driver at): each action runs in a pod of its own").ConfigureAwait(false);
            }
        }

        var size = request.InputsFile is { } inputsFile ? new FileInfo(inputsFile).Length : Encoding.UTF8.GetByteCount(request.InputsJson);
        if (size > MaxInputsBytes)
        {
            throw new FlyteSharpException(
                $"the inputs of task {request.Task} are {size} bytes of JSON; kubernetes mode passes inputs in the pod's environment, which holds at most {MaxInputsBytes} bytes",
                fix: "pass large data by reference (a path or URL the task reads) instead of by value");
        }

        await _pods.CheckSecretsAsync(request.Environment, cancellationToken).ConfigureAwait(false);
        var inputsJson = request.InputsFile is { } file ? await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false) : request.InputsJson;
        var image = await _images.GetAsync(request.Environment, cancellationToken).ConfigureAwait(false);
        var log = new PodLog(request.Log);
        var outcome = await RunPodAsync(
            request.Environment, image, request.ActionId, request.Task.ToString(),
            ["--task", request.Task.ToString(), "--inputs-env", KubernetesPodSpec.InputsVariable, "--result-stdout"],
            inputsJson, log, cancellationToken, request.Placed).ConfigureAwait(false);
        if (outcome.Reason == "OOMKilled")
        {
            throw new ContainerOutOfMemoryException(request.Task.ToString(), request.Environment.Name, request.Environment.Resources.Memory);
        }

        if (log.ResultJson is not { } json)
        {
            throw Unusable(request.Environment, image, outcome, log);
        }

        using var result = RunnerProtocol.ParseReply(json, $"pod {outcome.Pod}");
        return RunnerProtocol.ParseCall(result.RootElement, outcome.ExitCode ?? -1, $"pod {outcome.Pod}");
    }

    /// <summary>Deletes the run's replica Pods and token Secret (run end), then releases the client.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_reusable is not null)
        {
            await _reusable.DisposeAsync().ConfigureAwait(false);
        }

        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    /// <summary>A cluster fetches the bundle over the network: only an oci:// store (a registry it can pull from) serves it.</summary>
    internal static void RequireClusterStore(PythonExecutorContext context)
    {
        var blob = context.Bundle.StoreUri ?? context.Config.EffectiveStoreUri;
        if (!blob.StartsWith("oci://", StringComparison.OrdinalIgnoreCase))
        {
            var store = context.Bundle.StoreUri is null || context.Config.EffectiveStoreUri.StartsWith("oci://", StringComparison.OrdinalIgnoreCase)
                ? blob
                : context.Config.EffectiveStoreUri;
            throw new FlyteSharpException(
                $"kubernetes mode needs the code bundle in an oci:// store the cluster can reach, but the store is {store}; pods cannot read this machine's files",
                context.Config.SourceFile,
                fix: "set [storage] uri = \"oci://<registry>/<repository>\" in flytesharp.toml (or FLYTESHARP_STORE), on a registry the cluster's nodes can reach");
        }
    }

    /// <summary>Where the Pods of <paramref name="image"/> fetch the run's bundle (null when the code is in the image).</summary>
    private async Task<ContainerBundleSource?> BundleSourceAsync(ContainerImage image, CancellationToken cancellationToken) =>
        image.CodeDirectory is not null ? null : ContainerBundleSource.For(await _bundleUri.Value.WaitAsync(cancellationToken).ConfigureAwait(false), null, _context.Bundle.Digest,
            _context.Config.EffectiveStoreUri, _context.Config.InsecureRegistries);

    private async Task<PodOutcome> RunPodAsync(
        TaskEnvironment environment, ContainerImage image, string actionId, string task, IReadOnlyList<string> runnerArguments,
        string? inputsJson, PodLog log, CancellationToken cancellationToken, Action<string?, string>? placed = null)
    {
        var bundle = ContainerBundleSource.For(await _bundleUri.Value.WaitAsync(cancellationToken).ConfigureAwait(false), null, _context.Bundle.Digest,
            _context.Config.EffectiveStoreUri, _context.Config.InsecureRegistries);
        var n = Interlocked.Increment(ref _sequence);
        var name = KubernetesPodSpec.PodName(_context.RunName, n, Guid.NewGuid().ToString("N")[..6]);
        var pod = KubernetesPodSpec.Build(name, Namespace, image, environment.Resources,
            RunnerCommand.For(image, bundle, _context.Bundle.Digest, runnerArguments), inputsJson, _context.RunName, actionId, task, environment.Name,
            environment.EnvVars, inputsJson is null ? null : environment.Secrets);

        placed?.Invoke(image.Uri, $"pod {name} in namespace {Namespace}");
        return await _pods.RunAsync(pod, log, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> PutBundleAsync(CancellationToken cancellationToken) =>
        (await RunBundles.UploadAsync(_context, cancellationToken).ConfigureAwait(false)).BlobUri
        ?? throw new FlyteSharpException($"the run's code bundle {_context.Bundle.Digest} is in no store a pod could fetch it from",
            fix: "set [storage] uri = \"oci://<registry>/<repository>\" in flytesharp.toml");

    private static FlyteSharpException Unusable(TaskEnvironment environment, ContainerImage image, PodOutcome outcome, PodLog log)
    {
        var tail = string.Join('\n', log.Tail());
        if (outcome.Reason == "OOMKilled")
        {
            return new ContainerOutOfMemoryException("describe", environment.Name, environment.Resources.Memory);
        }

        if (outcome.ExitCode == 137)
        {
            return new FlyteSharpException($"pod {outcome.Pod} of environment '{environment.Name}' was killed (SIGKILL, exit code 137):\n{tail}",
                fix: "check whether the node evicted or killed it (kubectl get events)");
        }

        return new FlyteSharpException(
            $"pod {outcome.Pod} ran image {image.Uri} of environment '{environment.Name}' but FlyteSharp's Python runner gave no result " +
            $"({image.PythonExecutable} {image.RunnerPath}, exit code {outcome.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}, reason {outcome.Reason ?? "none"}):\n{tail}",
            fix: "base the image on one with Python 3.9 or newer and keep the FlyteSharp runner layer; check that pods can reach the bundle's registry");
    }

}
