using System.Text;
using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Kubernetes;
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
    private int _sequence;

    /// <summary>
    /// Creates the executor; refuses a run whose bundles the cluster could not fetch (a store that is not oci://). With
    /// <paramref name="code"/> (a deployed version's recorded code) the store is checked per task instead: baked assemblies need none.
    /// </summary>
    public KubernetesDotnetExecutor(DotnetExecutorContext context, IContainerImageSource images, IKubernetes client, string namespaceName,
        bool ownsClient = false, TimeProvider? timeProvider = null, IDotnetCodeSource? code = null)
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
    }

    /// <summary>The executor of a kubernetes run: images built when their tag is missing, the client from <c>[kubernetes]</c>.</summary>
    public static KubernetesDotnetExecutor Create(DotnetExecutorContext context)
    {
        var configuration = KubernetesClients.Configuration(context.Config);
        var images = new BuildingImageSource(context.Config, ct => ImageBuildServices.CreateAsync(context.Config, cancellationToken: ct), context.BuildProgress);
        return new KubernetesDotnetExecutor(context, images, new k8s.Kubernetes(configuration), KubernetesClients.Namespace(context.Config, configuration), ownsClient: true);
    }

    /// <summary>The executor of a kubernetes run of a deployed version: its recorded images and code, nothing built or bundled.</summary>
    public static KubernetesDotnetExecutor Create(DotnetExecutorContext context, DeployedSources deployed)
    {
        var configuration = KubernetesClients.Configuration(context.Config);
        return new KubernetesDotnetExecutor(context, deployed.Images, new k8s.Kubernetes(configuration), KubernetesClients.Namespace(context.Config, configuration),
            ownsClient: true, code: deployed.DotnetCode);
    }

    private static bool IsClusterStore(string uri) => uri.StartsWith("oci://", StringComparison.OrdinalIgnoreCase);

    public async Task<TaskReply> ExecuteAsync(DotnetTaskRequest request, CancellationToken cancellationToken)
    {
        var task = request.Task;
        var environment = task.Environment;
        var inputsJson = request.InputsFile is { } file ? await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false) : request.InputsJson;
        if (Encoding.UTF8.GetByteCount(inputsJson) > KubernetesPythonExecutor.MaxInputsBytes)
        {
            throw new FlyteSharpException(
                $"the inputs of task {task.Name} are {Encoding.UTF8.GetByteCount(inputsJson)} bytes of JSON; kubernetes mode passes inputs in the pod's environment, which holds at most {KubernetesPythonExecutor.MaxInputsBytes} bytes",
                fix: "pass large data by reference (a path or URL the task reads) instead of by value");
        }

        var code = await _code.CodeForAsync(task, cancellationToken).ConfigureAwait(false);
        if (!code.InImage && !IsClusterStore(code.BundleUri ?? ""))
        {
            throw new FlyteSharpException(
                $"the .NET bundle {code.BundleDigest} of task '{task.Name}' is at {code.BundleUri}, which a pod cannot read; kubernetes mode needs it in an oci:// store",
                _context.Config.SourceFile,
                fix: "deploy with [storage] uri = \"oci://<registry>/<repository>\" (a registry the cluster's nodes can reach), or bake the assemblies in with WithDotnetProject");
        }

        request.Log("flytesharp", code.Description);
        if (environment.Reuse is not null)
        {
            // Not silently dropped: replica Pods serve Python tasks; the .NET worker has no pull transport yet.
            request.Log("flytesharp", $"environment '{environment.Name}' has a ReusePolicy, which kubernetes mode applies to Python tasks only: this C# action runs in a pod of its own");
            if (_reuseWarned.TryAdd(environment.Name, 0))
            {
                await Console.Error.WriteLineAsync($"warning: environment '{environment.Name}' has a ReusePolicy, which kubernetes mode applies to Python tasks only: its C# tasks run in a pod of their own each").ConfigureAwait(false);
            }
        }

        await _pods.CheckSecretsAsync(environment, cancellationToken).ConfigureAwait(false);
        var image = await _images.GetAsync(environment, cancellationToken).ConfigureAwait(false);
        var bundle = code.InImage ? null : ContainerBundleSource.For(code.BundleUri, null, code.BundleDigest!, _context.Config.EffectiveStoreUri, _context.Config.InsecureRegistries);
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

    /// <summary>Deletes the run's controller token Secret (run end).</summary>
    public async ValueTask DisposeAsync()
    {
        await _tokenSecret.DisposeAsync().ConfigureAwait(false);
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private static Execution.Controller.ControllerToken TokenOf(DotnetControllerAccess controller) =>
        controller.Token ?? throw new InvalidOperationException("controller access for a Pod carries the run's token");
}
