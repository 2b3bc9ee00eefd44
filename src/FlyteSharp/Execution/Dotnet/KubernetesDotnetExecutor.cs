using System.Text;
using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Kubernetes;
using FlyteSharp.Execution.Python;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;
using k8s;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// Runs each C# action whose environment has a .NET image as its own Kubernetes Pod of that image, with the same pod
/// spec and pod engine as Python actions (<see cref="KubernetesPodSpec"/>, <see cref="KubernetesPods"/>): resources as
/// requests and limits, inputs in an environment variable, the .NET worker fetching the run's .NET bundle from the
/// oci:// store, the reply read from its marked line in the pod log, the pod deleted afterwards and on cancellation.
/// Nested calls go to the driver's controller API over TCP (<c>[kubernetes] controller_url</c>); the run's token reaches
/// the Pods as one Kubernetes Secret per run (<see cref="RunTokenSecret"/>), mounted as the worker's token file.
/// Environments with a <see cref="ReusePolicy"/> run on long-lived Pods instead when <c>[kubernetes] controller_url</c> is
/// set (<see cref="ReusablePods"/>, the engine of Python replicas): the worker's pull serve loop
/// (<c>--serve-pull</c>) takes one call after another, a new bundle digest reloads in the same Pod.
/// </summary>
internal sealed class KubernetesDotnetExecutor : IDotnetTaskExecutor
{
    private readonly DotnetExecutorContext _context;
    private readonly IContainerImageSource _images;
    private readonly IKubernetes _client;
    private readonly bool _ownsClient;
    private readonly KubernetesPods _pods;
    private readonly IDotnetCodeSource _code;
    private readonly RunTokenSecret _tokenSecret;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _reuseWarned = new(StringComparer.Ordinal);
    private readonly ReusablePods? _reusable;
    private int _sequence;

    /// <summary>
    /// Largest inputs object sent inline to a replica Pod: its worker reads a request of at most 64 MiB, and escaping can
    /// triple the size of non-ASCII text.
    /// </summary>
    internal const int MaxReplicaInputsBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Creates the executor; refuses a run whose bundles the cluster could not fetch (a store that is not oci://). With
    /// <paramref name="code"/> (a deployed version's recorded code) the store is checked per task instead: baked assemblies need none.
    /// </summary>
    /// <param name="context">The run.</param>
    /// <param name="images">Where the environments' images come from.</param>
    /// <param name="client">The run's API client.</param>
    /// <param name="namespaceName">The namespace Pods go to.</param>
    /// <param name="ownsClient">Dispose <paramref name="client"/> with the executor.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="code">A deployed version's recorded code; null to bundle the run's.</param>
    /// <param name="sharedClient">Makes a client of the process's own for <see cref="ReuseScope.Global"/> replica Pods, which outlive the run.</param>
    public KubernetesDotnetExecutor(DotnetExecutorContext context, IContainerImageSource images, IKubernetes client, string namespaceName,
        bool ownsClient = false, TimeProvider? timeProvider = null, IDotnetCodeSource? code = null, Func<IKubernetes>? sharedClient = null)
    {
        if (code is null && !IsClusterStore(context.Config.EffectiveStoreUri))
        {
            throw new FlyteSharpException(
                $"kubernetes mode needs the .NET code bundle in an oci:// store the cluster can reach, but the store is {context.Config.EffectiveStoreUri}; pods cannot read this machine's files",
                context.Config.SourceFile,
                fix: "set [storage] uri = \"oci://<registry>/<repository>\" in flytesharp.toml (or FLYTESHARP_STORE), on a registry the cluster's nodes can reach");
        }

        _context = context;
        _images = images;
        _client = client;
        _ownsClient = ownsClient;
        _pods = new KubernetesPods(client, namespaceName, timeProvider ?? TimeProvider.System);
        _code = code ?? new DotnetRunBundles(context.Config);
        _tokenSecret = new RunTokenSecret(_pods, context.RunName);
        if (context.Controller is { } controller && context.Config.ControllerUrl is not null)
        {
            _reusable = new ReusablePods(context.RunName, context.Config, context.Secrets, _pods, controller, timeProvider ?? TimeProvider.System, sharedClient, _tokenSecret);
        }
    }

    /// <summary>The executor of a kubernetes run: images built when their tag is missing, the client from <c>[kubernetes]</c>.</summary>
    public static KubernetesDotnetExecutor Create(DotnetExecutorContext context)
    {
        var configuration = KubernetesClients.Configuration(context.Config);
        var images = new BuildingImageSource(context.Config, ct => ImageBuildServices.CreateAsync(context.Config, cancellationToken: ct), context.BuildProgress);
        return new KubernetesDotnetExecutor(context, images, new k8s.Kubernetes(configuration), KubernetesClients.Namespace(context.Config, configuration), ownsClient: true,
            sharedClient: () => new k8s.Kubernetes(configuration));
    }

    /// <summary>The executor of a kubernetes run of a deployed version: its recorded images and code, nothing built or bundled.</summary>
    public static KubernetesDotnetExecutor Create(DotnetExecutorContext context, DeployedSources deployed)
    {
        var configuration = KubernetesClients.Configuration(context.Config);
        return new KubernetesDotnetExecutor(context, deployed.Images, new k8s.Kubernetes(configuration), KubernetesClients.Namespace(context.Config, configuration),
            ownsClient: true, code: deployed.DotnetCode, sharedClient: () => new k8s.Kubernetes(configuration));
    }

    private static bool IsClusterStore(string uri) => uri.StartsWith("oci://", StringComparison.OrdinalIgnoreCase);

    public async Task<TaskReply> ExecuteAsync(DotnetTaskRequest request, CancellationToken cancellationToken)
    {
        var task = request.Task;
        var environment = task.Environment;
        var inputsJson = request.InputsFile is { } file ? await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false) : request.InputsJson;
        var code = await _code.CodeForAsync(task, cancellationToken).ConfigureAwait(false);
        if (!code.InImage && !IsClusterStore(code.BundleUri ?? ""))
        {
            throw new FlyteSharpException(
                $"the .NET bundle {code.BundleDigest} of task '{task.Name}' is at {code.BundleUri}, which a pod cannot read; kubernetes mode needs it in an oci:// store",
                _context.Config.SourceFile,
                fix: "deploy with [storage] uri = \"oci://<registry>/<repository>\" (a registry the cluster's nodes can reach), or bake the assemblies in with WithDotnetProject");
        }

        request.Log("flytesharp", code.Description);
        ContainerImage? image = null;
        ContainerBundleSource? bundle = null;
        if (environment.Reuse is not null)
        {
            if (_reusable is not null)
            {
                if (environment.Reuse.Scope == ReuseScope.Global && !_reusable.SharesGlobal && _reuseWarned.TryAdd(environment.Name, 0))
                {
                    await Console.Error.WriteLineAsync($"warning: environment '{environment.Name}' has ReuseScope.Global, which kubernetes mode applies per run " +
                        "unless [kubernetes] controller_url has a {port} placeholder (shared Pods pull from a port of their own): its Pods are deleted when the run ends").ConfigureAwait(false);
                }

                image = await _images.GetAsync(environment, cancellationToken).ConfigureAwait(false);
                bundle = BundleOf(code);
                if (await ExecuteReusableAsync(request, image, bundle, code, inputsJson, cancellationToken).ConfigureAwait(false) is { } reused)
                {
                    return reused;
                }

                // Every replica is held by a caller up the action tree that waits for this action: a Pod of its own.
            }
            else if (_reuseWarned.TryAdd(environment.Name, 0))
            {
                // Said once per environment and run, not silently dropped: the run still works, one pod per action.
                await Console.Error.WriteLineAsync($"warning: environment '{environment.Name}' has a ReusePolicy, which kubernetes mode applies only when " +
                    "[kubernetes] controller_url is set (the URL its Pods reach this driver at): each action runs in a pod of its own").ConfigureAwait(false);
            }
        }

        if (Encoding.UTF8.GetByteCount(inputsJson) > KubernetesPythonExecutor.MaxInputsBytes)
        {
            throw new FlyteSharpException(
                $"the inputs of task {task.Name} are {Encoding.UTF8.GetByteCount(inputsJson)} bytes of JSON; kubernetes mode passes inputs in the pod's environment, which holds at most {KubernetesPythonExecutor.MaxInputsBytes} bytes",
                fix: "pass large data by reference (a path or URL the task reads) instead of by value");
        }

        await _pods.CheckSecretsAsync(environment, cancellationToken).ConfigureAwait(false);
        image ??= await _images.GetAsync(environment, cancellationToken).ConfigureAwait(false);
        bundle ??= BundleOf(code);
        var log = new PodLog(request.Log);
        PodOutcome outcome;
        DotnetControllerAccess? controller = null;
        try
        {
            // Registered before the Pod exists: its first child call may come as soon as it starts.
            controller = request.Controller?.Invoke();
            var secret = controller is null ? null : await _tokenSecret.EnsureAsync(TokenOf(controller), cancellationToken).ConfigureAwait(false);
            var pod = Pod(request, image, bundle?.Source, code, inputsJson, Interlocked.Increment(ref _sequence), controller, secret);
            request.Placed(image.Uri, $"pod {pod.Metadata.Name} in namespace {_pods.Namespace}");
            outcome = await _pods.RunAsync(pod, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            controller?.Registration.Dispose();
        }

        if (outcome.Reason == "OOMKilled")
        {
            throw new ContainerOutOfMemoryException(task.Name, environment.Name, environment.Resources.Memory);
        }

        if (log.ResultJson is not { } json)
        {
            throw new FlyteSharpException(
                $"pod {outcome.Pod} ran image {image.Uri} of environment '{environment.Name}' but FlyteSharp's .NET worker gave no result " +
                $"({DotnetWorkerCommand.DotnetExecutable} {DotnetWorkerCommand.EntryPath}, exit code {outcome.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}, reason {outcome.Reason ?? "none"}):\n{string.Join('\n', log.Tail())}",
                fix: "base the environment on Image.FromDotnetBase(…) and keep its worker layer; check that pods can reach the bundle's registry");
        }

        using var reply = RunnerProtocol.ParseReply(json, $"pod {outcome.Pod}");
        var result = RunnerProtocol.ParseCall(reply.RootElement, outcome.ExitCode ?? -1, $"pod {outcome.Pod}");
        if (result.Error?.Type == typeof(OutOfMemoryException).FullName && environment.Resources.MemoryBytes is not null)
        {
            throw new ContainerOutOfMemoryException(task.Name, environment.Name, environment.Resources.Memory);
        }

        return result;
    }

    /// <summary>
    /// The pod of one C# action: the environment's .NET image running the worker on the task's .NET bundle (or the image's
    /// baked assemblies); with <paramref name="controller"/>, the worker's controller arguments and Secret
    /// <paramref name="tokenSecret"/> mounted as its token file.
    /// </summary>
    internal k8s.Models.V1Pod Pod(DotnetTaskRequest request, ContainerImage image, string? bundleSource, DotnetTaskCode code, string inputsJson, int sequence,
        DotnetControllerAccess? controller = null, string? tokenSecret = null)
    {
        var task = request.Task;
        var command = DotnetWorkerCommand.For(bundleSource, code.BundleDigest, code.AssemblyFile, task.Name,
            ["--inputs-env", KubernetesPodSpec.InputsVariable, "--result-stdout", "--run", _context.RunName, "--action", request.ActionId, .. controller?.WorkerArguments ?? []]);
        var name = KubernetesPodSpec.PodName(_context.RunName, sequence, Guid.NewGuid().ToString("N")[..6]);
        var pod = KubernetesPodSpec.Build(name, _pods.Namespace, image, task.Environment.Resources, command, inputsJson, _context.RunName, request.ActionId, task.Name,
            task.Environment.Name, task.Environment.EnvVars, task.Environment.Secrets);
        if (controller is not null)
        {
            ControllerTokenSecret.Reference(pod, tokenSecret ?? throw new ArgumentNullException(nameof(tokenSecret), "a Pod with controller access needs the run's token Secret"));
        }

        return pod;
    }

    /// <summary>
    /// Runs <paramref name="request"/> on a replica Pod of its environment (the worker's pull serve loop); null when it
    /// may not wait for a replica and none is free.
    /// </summary>
    private async Task<TaskReply?> ExecuteReusableAsync(DotnetTaskRequest request, ContainerImage image, ContainerBundleSource? bundle, DotnetTaskCode code, string inputsJson,
        CancellationToken cancellationToken)
    {
        var task = request.Task;
        var environment = task.Environment;
        if (Encoding.UTF8.GetByteCount(inputsJson) > MaxReplicaInputsBytes)
        {
            // Refused here with the reason, rather than a request the worker's bounded read refuses by stopping.
            throw new FlyteSharpException(
                $"the inputs of task {task.Name} are {Encoding.UTF8.GetByteCount(inputsJson)} bytes of JSON; a reusable pod takes at most {MaxReplicaInputsBytes} bytes inline",
                fix: "pass large data by reference (a path or URL the task reads) instead of by value");
        }

        var shared = environment.Reuse!.Scope == ReuseScope.Global && _reusable!.SharesGlobal;
        var program = new ReplicaPodProgram("dotnet", code.BundleDigest ?? DotnetReplica.AppCode,
            (url, replica, sharedPod) => DotnetWorkerCommand.ForServe(bundle?.Source, code.BundleDigest,
                // A run's own Pods reach its controller with the mounted token; a shared Pod is told each call's run's.
                sharedPod ? [] : ["--controller", url],
                serveArguments: ["--serve-pull", url, "--replica", replica, "--controller-token-file", FlyteSharp.Controller.ControllerProtocol.ContainerTokenPath]),
            () => bundle is null
                ? new Dictionary<string, object?> { ["op"] = "reload", ["app_dir"] = DotnetWorkerCommand.AppDirectory }
                : new Dictionary<string, object?>
                {
                    ["op"] = "reload",
                    ["bundle"] = bundle.Source,
                    ["digest"] = code.BundleDigest,
                    ["bundle_dir"] = DotnetWorkerCommand.ServeBundleDirectory(code.BundleDigest!),
                });
        using var inputs = System.Text.Json.JsonDocument.Parse(inputsJson);
        DotnetControllerAccess? controller = null;
        try
        {
            return await _reusable!.UseAsync(environment, image, program, task.Name, mayWait: !request.CalledFromSameEnvironment, async (replica, ct) =>
            {
                // Registered before the request goes out: the task's first child call may come as soon as it starts.
                controller = request.Controller?.Invoke();
                request.Placed(image.Uri, $"pod {replica.Name} in namespace {_pods.Namespace} (reusable, call {(replica.Calls + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)})");
                var message = new Dictionary<string, object?>
                {
                    ["op"] = "call",
                    ["task"] = task.Name,
                    ["assembly"] = code.AssemblyFile,
                    ["inputs"] = inputs.RootElement,
                    ["run"] = _context.RunName,
                    ["action"] = request.ActionId,
                    // The worker answers a larger reply with a small error instead of a body the controller would refuse.
                    ["max_reply_bytes"] = replica.MaxReplyBytes,
                };
                if (shared && controller is { Token: { } token } && controller.WorkerArguments.SkipWhile(a => a != "--controller").Skip(1).FirstOrDefault() is { } address)
                {
                    message["controller"] = address;
                    message["controller_token"] = token.Value;
                }

                using var reply = await replica.SendAsync(message, ct).ConfigureAwait(false);
                var result = ReusablePods.ParseReply(reply, replica, request.Log);
                if (result.Error?.Type == typeof(OutOfMemoryException).FullName && environment.Resources.MemoryBytes is not null)
                {
                    // The runtime's heap limit derives from the Pod's; its heap is suspect afterwards (the throw retires it).
                    throw new ContainerOutOfMemoryException(task.Name, environment.Name, environment.Resources.Memory);
                }

                return result;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (PythonWorkerDiedException ex)
        {
            // The task's retries run it again, on a new Pod (this one was deleted on release).
            throw new DotnetTaskException(task.Name, "ProcessExited", $"the .NET worker in a reusable pod ended while running the task: {Processes.CliProcess.Tail(ex.Message, 20)}", "");
        }
        finally
        {
            controller?.Registration.Dispose();
        }
    }

    private ContainerBundleSource? BundleOf(DotnetTaskCode code) =>
        code.InImage ? null : ContainerBundleSource.For(code.BundleUri, null, code.BundleDigest!, _context.Config.EffectiveStoreUri, _context.Config.InsecureRegistries);

    /// <summary>Deletes the run's replica Pods, then its controller token Secret (run end).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_reusable is not null)
        {
            await _reusable.DisposeAsync().ConfigureAwait(false);
        }

        await _tokenSecret.DisposeAsync().ConfigureAwait(false);
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private static Execution.Controller.ControllerToken TokenOf(DotnetControllerAccess controller) =>
        controller.Token ?? throw new InvalidOperationException("controller access for a Pod carries the run's token");
}
