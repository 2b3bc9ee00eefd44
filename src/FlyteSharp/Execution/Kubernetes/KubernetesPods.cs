using System.Net;
using System.Text;
using FlyteSharp.Tasks;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// The one engine that runs an action's Pod, for Python and C# actions alike: create it, watch it until its container
/// ended (or it can never run), follow its log into the run, delete it afterwards and on cancellation; Kubernetes
/// Secrets checked before a pod would wait on a missing one; API failures turned into errors that say what to fix.
/// </summary>
internal sealed class KubernetesPods(IKubernetes client, string namespaceName, TimeProvider time)
{
    private readonly IKubernetes _client = client;
    private readonly TimeProvider _time = time;

    /// <summary>How long creating a pod may take before the action fails.</summary>
    internal static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The namespace pods are created in.</summary>
    public string Namespace { get; } = namespaceName;

    /// <summary>Creates <paramref name="pod"/>, waits for its container to end while its log goes to <paramref name="log"/>, and deletes it.</summary>
    public async Task<PodOutcome> RunAsync(V1Pod pod, PodLog log, CancellationToken cancellationToken)
    {
        var name = pod.Metadata.Name;
        var created = await CreateAsync(pod).ConfigureAwait(false);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return await WaitAsync(created, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Also on cancellation and failure: a pod left behind holds its node's resources.
            await DeleteAsync(name).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Creates <paramref name="pod"/>. Not cancellable half-way: an aborted create may still have made the pod on the
    /// server, and nobody would delete it. The create is let finish (bounded); the caller deletes the pod when it is cancelled.
    /// </summary>
    public async Task<V1Pod> CreateAsync(V1Pod pod)
    {
        var name = pod.Metadata.Name;
        try
        {
            using var createTimeout = new CancellationTokenSource(CreateTimeout, _time);
            return await _client.CoreV1.CreateNamespacedPodAsync(pod, Namespace, cancellationToken: createTimeout.Token).ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            throw ApiError($"could not create pod {name} in namespace '{Namespace}'", ex);
        }
        catch (OperationCanceledException ex)
        {
            await DeleteAsync(name).ConfigureAwait(false);
            throw new FlyteSharpException($"the Kubernetes API did not answer the creation of pod {name} within {CreateTimeout.TotalSeconds:0} s",
                fix: "check the cluster (kubectl get pods -n " + Namespace + ") and the API server's health", inner: ex);
        }
    }

    /// <summary>
    /// Watches a long-lived pod until its container ended, it can never run, or it was deleted, and says why: what a
    /// reusable Pod's owner needs to know to retire it. Cancelled when the owner stops watching (the replica retired).
    /// </summary>
    public async Task<PodEnd> MonitorAsync(V1Pod created, CancellationToken cancellationToken)
    {
        var name = created.Metadata.Name;
        var current = created;
        var quietWatches = 0;
        while (true)
        {
            var state = PodState.Of(current);
            if (state.Progress == PodProgress.Failed)
            {
                return new PodEnd(null, state.Reason, Failed(name, current, state.Failure!).Message);
            }

            if (state.Progress == PodProgress.Ended)
            {
                return new PodEnd(state.ExitCode, state.Reason, null);
            }

            var events = 0;
            try
            {
                var watch = _client.CoreV1.WatchListNamespacedPodAsync(
                    Namespace, fieldSelector: $"metadata.name={name}", resourceVersion: current.Metadata.ResourceVersion, cancellationToken: cancellationToken);
                await foreach (var (type, changed) in watch.ConfigureAwait(false))
                {
                    if (type == WatchEventType.Deleted)
                    {
                        return new PodEnd(null, "Deleted", $"pod {name} in namespace '{Namespace}' was deleted");
                    }

                    if (type is WatchEventType.Added or WatchEventType.Modified && changed?.Metadata?.Name == name)
                    {
                        events++;
                        current = changed;
                        if (PodState.Of(current).Progress is PodProgress.Ended or PodProgress.Failed)
                        {
                            break;
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is KubernetesException or IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                // An expired resourceVersion or a broken connection: read the pod afresh below.
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (events == 0)
            {
                if (++quietWatches > 1)
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(quietWatches, 10)), _time, cancellationToken).ConfigureAwait(false);
                }

                try
                {
                    current = await _client.CoreV1.ReadNamespacedPodAsync(name, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    return new PodEnd(null, "Deleted", $"pod {name} in namespace '{Namespace}' was deleted");
                }
                catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
                {
                    // The API is unreachable for now: the replica's silence bound still applies; ask again.
                }
            }
            else
            {
                quietWatches = 0;
            }
        }
    }

    /// <summary>The last lines of a pod's log (best effort: empty when it cannot be read), for an error message.</summary>
    public async Task<IReadOnlyList<string>> LogTailAsync(string name, int lines, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await _client.CoreV1.ReadNamespacedPodLogAsync(name, Namespace, container: KubernetesPodSpec.ContainerName, tailLines: lines,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var streamDisposal = stream.ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines).ToArray();
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException or OperationCanceledException)
        {
            return [];
        }
    }

    /// <summary>
    /// Fails the action before its pod is created when a Kubernetes Secret it names, or the key in it, is missing: a pod
    /// would otherwise wait in CreateContainerConfigError. Only the Secret's keys are looked at, its values are dropped.
    /// </summary>
    public async Task CheckSecretsAsync(TaskEnvironment environment, CancellationToken cancellationToken)
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

    /// <summary>Creates <paramref name="secret"/> in the namespace (a run's controller token Secret).</summary>
    public async Task CreateSecretAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        try
        {
            await _client.CoreV1.CreateNamespacedSecretAsync(secret, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            throw ApiError($"could not create Kubernetes Secret '{secret.Metadata.Name}' (the run's controller token) in namespace '{Namespace}'", ex);
        }
    }

    /// <summary>Deletes Secret <paramref name="name"/>; true when it is gone (deleted now or before), false when the API could not be asked.</summary>
    public async Task<bool> DeleteSecretAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await _client.CoreV1.DeleteNamespacedSecretAsync(name, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return true;
        }
        catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException)
        {
            return false;
        }
    }

    /// <summary>The Secrets of the namespace that match <paramref name="labelSelector"/>.</summary>
    public async Task<IReadOnlyList<V1Secret>> ListSecretsAsync(string labelSelector, CancellationToken cancellationToken)
    {
        try
        {
            var list = await _client.CoreV1.ListNamespacedSecretAsync(Namespace, labelSelector: labelSelector, cancellationToken: cancellationToken).ConfigureAwait(false);
            return list.Items?.ToList() ?? [];
        }
        catch (HttpOperationException ex)
        {
            throw ApiError($"could not list Kubernetes Secrets ({labelSelector}) in namespace '{Namespace}'", ex);
        }
    }

    /// <summary>The Pods of the namespace that match <paramref name="labelSelector"/>.</summary>
    public async Task<IReadOnlyList<V1Pod>> ListPodsAsync(string labelSelector, CancellationToken cancellationToken)
    {
        try
        {
            var list = await _client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: labelSelector, cancellationToken: cancellationToken).ConfigureAwait(false);
            return list.Items?.ToList() ?? [];
        }
        catch (HttpOperationException ex)
        {
            throw ApiError($"could not list pods ({labelSelector}) in namespace '{Namespace}'", ex);
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

    /// <summary>Deletes pod <paramref name="name"/> at once (best effort: a pod left behind carries labels to find it by).</summary>
    public async Task DeleteAsync(string name)
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
                fix: "check the image's entry: " + string.Join(' ', pod.Spec?.Containers?.FirstOrDefault()?.Command?.Take(2) ?? ["?"]) +
                     " (the interpreter and FlyteSharp's Python runner, or dotnet and FlyteSharp's .NET worker)"),
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
            HttpStatusCode.Forbidden => $"grant the account create/get/watch/delete on pods (list, for runs gc of replica Pods), get on pods/log, and create/delete/list on secrets (the run's controller token; get, for environments with secrets) in namespace '{Namespace}'",
            HttpStatusCode.NotFound => $"create namespace '{Namespace}' or set [kubernetes] namespace in flytesharp.toml",
            _ => "check the cluster (kubectl get pods -n " + Namespace + ")",
        };
        return new FlyteSharpException($"{what}: the Kubernetes API answered {status}: {body}", fix: fix, inner: ex);
    }

}
