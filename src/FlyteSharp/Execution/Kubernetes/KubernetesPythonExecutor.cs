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
/// streamed into the run, completion awaited with a watch, the pod deleted afterwards and on cancellation.
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
    private readonly bool _ownsClient;
    private readonly TimeProvider _time;
    private readonly Lazy<Task<string>> _bundleUri;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _reuseWarned = new(StringComparer.Ordinal);
    private int _sequence;

    /// <summary>Creates the executor; refuses a run whose bundle the cluster could not fetch (a file:// store).</summary>
    public KubernetesPythonExecutor(PythonExecutorContext context, IContainerImageSource images, IKubernetes client, string namespaceName,
        bool ownsClient = false, TimeProvider? timeProvider = null)
    {
        RequireClusterStore(context);
        _context = context;
        _images = images;
        _client = client;
        _ownsClient = ownsClient;
        Namespace = namespaceName;
        _time = timeProvider ?? TimeProvider.System;
        _bundleUri = new(() => PutBundleAsync(CancellationToken.None));
    }

    /// <summary>The namespace pods are created in.</summary>
    public string Namespace { get; }

    /// <summary>The executor of a fast-deploy kubernetes run: images built when their tag is missing, the client from <c>[kubernetes]</c>.</summary>
    public static KubernetesPythonExecutor Create(PythonExecutorContext context)
    {
        RequireClusterStore(context);
        var configuration = KubernetesClients.Configuration(context.Config);
        var images = new BuildingImageSource(context.Config with { RootDir = context.RootDir }, ct => ImageBuildServices.CreateAsync(context.Config, cancellationToken: ct), context.BuildProgress);
        return new KubernetesPythonExecutor(context, images, new k8s.Kubernetes(configuration), KubernetesClients.Namespace(context.Config, configuration), ownsClient: true);
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

    public async Task<PythonTaskResult> ExecuteAsync(PythonTaskRequest request, CancellationToken cancellationToken)
    {
        var size = request.InputsFile is { } inputsFile ? new FileInfo(inputsFile).Length : Encoding.UTF8.GetByteCount(request.InputsJson);
        if (size > MaxInputsBytes)
        {
            throw new FlyteSharpException(
                $"the inputs of task {request.Task} are {size} bytes of JSON; kubernetes mode passes inputs in the pod's environment, which holds at most {MaxInputsBytes} bytes",
                fix: "pass large data by reference (a path or URL the task reads) instead of by value");
        }

        if (request.Environment.Reuse is not null && _reuseWarned.TryAdd(request.Environment.Name, 0))
        {
            // Said once per environment and run, not silently dropped: the run still works, one pod per action.
            await Console.Error.WriteLineAsync($"warning: environment '{request.Environment.Name}' has a ReusePolicy, which kubernetes mode does not apply yet: each action runs in a pod of its own").ConfigureAwait(false);
        }

        await CheckSecretsAsync(request.Environment, cancellationToken).ConfigureAwait(false);
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

        using var result = JsonDocument.Parse(json);
        return RunnerProtocol.ParseCall(result.RootElement, outcome.ExitCode ?? -1, $"pod {outcome.Pod}");
    }

    public ValueTask DisposeAsync()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>A cluster fetches the bundle over the network: only an oci:// store (a registry it can pull from) serves it.</summary>
    private static void RequireClusterStore(PythonExecutorContext context)
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

        V1Pod created;
        placed?.Invoke(image.Uri, $"pod {name} in namespace {Namespace}");
        try
        {
            created = await _client.CoreV1.CreateNamespacedPodAsync(pod, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            throw ApiError($"could not create pod {name} in namespace '{Namespace}'", ex);
        }

        try
        {
            return await WaitAsync(created, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Also on cancellation and failure: a pod left behind holds its node's resources.
            await DeleteAsync(name).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Fails the action before its pod is created when a Kubernetes Secret it names, or the key in it, is missing: a pod
    /// would otherwise wait in CreateContainerConfigError. Only the Secret's keys are looked at, its values are dropped.
    /// </summary>
    private async Task CheckSecretsAsync(TaskEnvironment environment, CancellationToken cancellationToken)
    {
        foreach (var secret in environment.Secrets)
        {
            var name = KubernetesPodSpec.SecretName(secret);
            V1Secret found;
            try
            {
                found = await _client.CoreV1.ReadNamespacedSecretAsync(name, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new FlyteSharpException(
                    $"secret {secret.DisplayName} of task environment '{environment.Name}' was not found: namespace '{Namespace}' has no Kubernetes Secret '{name}'",
                    fix: $"kubectl create secret generic {name} -n {Namespace} --from-literal={secret.Key}=…");
            }
            catch (HttpOperationException ex)
            {
                throw ApiError($"could not read Kubernetes Secret '{name}' for secret {secret.DisplayName}", ex);
            }

            var hasKey = found.Data?.ContainsKey(secret.Key) == true || found.StringData?.ContainsKey(secret.Key) == true;
            if (!hasKey)
            {
                throw new FlyteSharpException(
                    $"secret {secret.DisplayName} of task environment '{environment.Name}' was not found: Kubernetes Secret '{name}' in namespace '{Namespace}' has no key '{secret.Key}'",
                    fix: $"add the key: kubectl patch secret {name} -n {Namespace} … (or kubectl create secret generic {name} --from-literal={secret.Key}=…)");
            }
        }
    }

    /// <summary>Watches the pod until its container ended (or it can never run), following its log once it started.</summary>
    private async Task<PodOutcome> WaitAsync(V1Pod created, PodLog log, CancellationToken cancellationToken)
    {
        var name = created.Metadata.Name;
        var current = created;
        Task? logs = null;
        using var stopLogs = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var quietWatches = 0;
            while (true)
            {
                var state = PodState.Of(current);
                if (state.Progress is PodProgress.Started or PodProgress.Ended)
                {
                    logs ??= FollowLogAsync(name, log, stopLogs.Token);
                }

                if (state.Progress == PodProgress.Failed)
                {
                    throw Failed(name, current, state.Failure!);
                }

                if (state.Progress == PodProgress.Ended)
                {
                    await FinishLogAsync(name, logs!, log, cancellationToken).ConfigureAwait(false);
                    return new PodOutcome(name, state.ExitCode, state.Reason);
                }

                var events = 0;
                Exception? watchError = null;
                try
                {
                    var watch = _client.CoreV1.WatchListNamespacedPodAsync(
                        Namespace, fieldSelector: $"metadata.name={name}", resourceVersion: current.Metadata.ResourceVersion,
                        onError: e => watchError = e, cancellationToken: cancellationToken);
                    await foreach (var (type, changed) in watch.ConfigureAwait(false))
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (type == WatchEventType.Deleted)
                        {
                            throw new FlyteSharpException($"pod {name} in namespace '{Namespace}' was deleted before its task finished",
                                fix: "check who deleted it (kubectl get events), then run again");
                        }

                        if (type is WatchEventType.Added or WatchEventType.Modified && changed?.Metadata?.Name == name)
                        {
                            events++;
                            current = changed;
                            var progress = PodState.Of(current).Progress;
                            if (progress == PodProgress.Started)
                            {
                                logs ??= FollowLogAsync(name, log, stopLogs.Token);
                            }
                            else if (progress != PodProgress.Waiting)
                            {
                                break;
                            }
                        }
                    }
                }
                catch (Exception ex) when (ex is KubernetesException or IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                {
                    // An expired resourceVersion (410) or a broken connection: read the pod afresh below.
                    watchError = ex;
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (events == 0)
                {
                    // The watch ended (server timeout, expired resourceVersion, a broken connection): read the pod afresh.
                    if (++quietWatches > 1)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(Math.Min(quietWatches, 10)), _time, cancellationToken).ConfigureAwait(false);
                    }

                    current = await ReadAsync(name, watchError, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    quietWatches = 0;
                }
            }
        }
        finally
        {
            await stopLogs.CancelAsync().ConfigureAwait(false);
            if (logs is not null)
            {
                await logs.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private async Task FollowLogAsync(string name, PodLog log, CancellationToken cancellationToken)
    {
        var stream = (await _client.CoreV1.ReadNamespacedPodLogAsync(name, Namespace, container: KubernetesPodSpec.ContainerName, follow: true,
            cancellationToken: cancellationToken).ConfigureAwait(false));
        await using var streamDisposal = stream.ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            log.Add(line);
        }
    }

    /// <summary>After the container ended: the followed log to its end, or, if following broke, the whole log read again.</summary>
    private async Task FinishLogAsync(string name, Task logs, PodLog log, CancellationToken cancellationToken)
    {
        try
        {
            await logs.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is HttpOperationException or IOException or HttpRequestException)
        {
            log.Replay();
        }

        try
        {
            var stream = (await _client.CoreV1.ReadNamespacedPodLogAsync(name, Namespace, container: KubernetesPodSpec.ContainerName,
                cancellationToken: cancellationToken).ConfigureAwait(false));
            await using var streamDisposal = stream.ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                log.Add(line);
            }
        }
        catch (HttpOperationException ex)
        {
            throw ApiError($"could not read the log of pod {name}", ex);
        }
    }

    private async Task<V1Pod> ReadAsync(string name, Exception? watchError, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.CoreV1.ReadNamespacedPodAsync(name, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new FlyteSharpException($"pod {name} in namespace '{Namespace}' was deleted before its task finished",
                fix: "check who deleted it (kubectl get events), then run again", inner: watchError);
        }
        catch (HttpOperationException ex)
        {
            throw ApiError($"could not read pod {name}", ex);
        }
    }

    private async Task DeleteAsync(string name)
    {
        try
        {
            await _client.CoreV1.DeleteNamespacedPodAsync(name, Namespace, gracePeriodSeconds: 0, propagationPolicy: "Background",
                cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone.
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException)
        {
            // Best effort: the action's own outcome matters more; the pod carries labels to find and delete it by hand.
        }
    }

    private async Task<string> PutBundleAsync(CancellationToken cancellationToken) =>
        (await RunBundles.UploadAsync(_context, cancellationToken).ConfigureAwait(false)).BlobUri
        ?? throw new FlyteSharpException($"the run's code bundle {_context.Bundle.Digest} is in no store a pod could fetch it from",
            fix: "set [storage] uri = \"oci://<registry>/<repository>\" in flytesharp.toml");

    private FlyteSharpException Failed(string name, V1Pod pod, PodFailure failure)
    {
        var image = pod.Spec?.Containers?.FirstOrDefault()?.Image;
        var detail = string.IsNullOrWhiteSpace(failure.Message) ? "" : $": {failure.Message}";
        return failure.Kind switch
        {
            PodFailureKind.ImagePull => new FlyteSharpException(
                $"pod {name} cannot pull image {image} ({failure.Reason}{detail})",
                fix: "check that the image was pushed to a registry the cluster's nodes can reach (not localhost), and that they may pull from it (imagePullSecrets, insecure-registry settings)"),
            PodFailureKind.Unschedulable => new FlyteSharpException(
                $"pod {name} cannot be scheduled: no node in the cluster fits it ({failure.Reason}{detail})",
                fix: "lower the environment's Resources (cpu, memory, gpu, disk) or add nodes that have them"),
            PodFailureKind.CreateContainer => new FlyteSharpException(
                $"pod {name} could not start its container ({failure.Reason}{detail})",
                fix: "check the image's entry (python and the FlyteSharp runner at " + (pod.Spec?.Containers?.FirstOrDefault()?.Command?.ElementAtOrDefault(1) ?? "?") + ")"),
            _ => new FlyteSharpException(
                $"pod {name} failed before its task ran ({failure.Reason}{detail})",
                fix: "see kubectl describe pod / kubectl get events in namespace " + Namespace),
        };
    }

    private FlyteSharpException ApiError(string what, HttpOperationException ex)
    {
        var status = (int)ex.Response.StatusCode;
        var body = ex.Response.Content is { Length: > 0 } c ? c.Length > 500 ? c[..500] : c : ex.Message;
        var fix = ex.Response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "check the credentials of your kubeconfig context",
            HttpStatusCode.Forbidden => $"grant the account create/get/watch/delete on pods and get on pods/log (and get on secrets, for environments with secrets) in namespace '{Namespace}'",
            HttpStatusCode.NotFound => $"create namespace '{Namespace}' or set [kubernetes] namespace in flytesharp.toml",
            _ => "check the cluster (kubectl get pods -n " + Namespace + ")",
        };
        return new FlyteSharpException($"{what}: the Kubernetes API answered {status}: {body}", fix: fix, inner: ex);
    }

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

    private sealed record PodOutcome(string Pod, int? ExitCode, string? Reason);
}
