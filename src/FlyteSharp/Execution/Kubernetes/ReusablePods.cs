using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using FlyteSharp.Configuration;
using FlyteSharp.Controller;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;
using k8s;
using k8s.Models;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// Runs the actions of environments with a <see cref="ReusePolicy"/> on long-lived Pods (<see cref="PodReplica"/>), for
/// Python and C# tasks alike (what a Pod runs is a <see cref="ReplicaPodProgram"/>): one
/// <see cref="ReplicaPool{TReplica}"/> per environment for the run, or, for <see cref="ReuseScope.Global"/>, a pool of
/// this driver process's <see cref="SharedReplicaHub"/> (a Pod serving other code is reloaded first). Each call is a serve request pulled by an idle
/// replica from the run's controller API, its values inline (a Pod shares no directory with the driver), its captured
/// output in the reply. The run's token reaches the Pods as the run's token Secret, mounted as a file; never in a spec.
/// </summary>
internal sealed class ReusablePods : IAsyncDisposable
{
    private readonly string _runName;
    private readonly FlyteConfig _config;
    private readonly RunSecrets _secrets;
    private readonly PythonBundle? _pythonBundle;
    private readonly KubernetesPods _pods;
    private readonly ControllerServerLink _controller;
    private readonly TimeProvider _time;
    private readonly RunTokenSecret _tokenSecret;
    private readonly bool _ownsTokenSecret;
    private readonly ConcurrentDictionary<string, ReplicaPool<PodReplica>> _pools = new(StringComparer.Ordinal);
    private readonly Func<IKubernetes>? _sharedClient;
    private static int _sequence;
    private int _disposed;

    /// <summary>The engine for a run's Python replica Pods.</summary>
    /// <param name="context">The run.</param>
    /// <param name="pods">The run's Pods API.</param>
    /// <param name="controller">The run's controller API server.</param>
    /// <param name="time">The clock (idle TTLs).</param>
    /// <param name="sharedClient">
    /// Makes an API client of the process's own for <see cref="ReuseScope.Global"/> replicas; null (or a
    /// <c>controller_url</c> without <c>{port}</c>) applies Global per run.
    /// </param>
    public ReusablePods(PythonExecutorContext context, KubernetesPods pods, ControllerServerLink controller, TimeProvider time, Func<IKubernetes>? sharedClient = null)
        : this(context.RunName, context.Config, context.Secrets, pods, controller, time, sharedClient)
    {
        _pythonBundle = context.Bundle;
    }

    /// <summary>The engine for a run's replica Pods of any <see cref="ReplicaPodProgram"/>.</summary>
    /// <param name="runName">The run (the owner of its Pods).</param>
    /// <param name="config">Its settings (controller address, cluster).</param>
    /// <param name="secrets">Its secrets (a shared hub's token is protected in its logs).</param>
    /// <param name="pods">The run's Pods API.</param>
    /// <param name="controller">The run's controller API server.</param>
    /// <param name="time">The clock (idle TTLs).</param>
    /// <param name="sharedClient">As for the Python engine.</param>
    /// <param name="tokenSecret">The run's token Secret when its owner already has one (then not deleted here); null to make one.</param>
    public ReusablePods(string runName, FlyteConfig config, RunSecrets secrets, KubernetesPods pods, ControllerServerLink controller, TimeProvider time,
        Func<IKubernetes>? sharedClient = null, RunTokenSecret? tokenSecret = null)
    {
        _runName = runName;
        _config = config;
        _secrets = secrets;
        _pods = pods;
        _controller = controller;
        _time = time;
        _ownsTokenSecret = tokenSecret is null;
        _tokenSecret = tokenSecret ?? new RunTokenSecret(pods, runName);
        _sharedClient = config.ControllerUrl?.Contains("{port}", StringComparison.Ordinal) == true ? sharedClient : null;
    }

    /// <summary>Whether <see cref="ReuseScope.Global"/> replicas outlive the run (a process-wide hub can serve them).</summary>
    public bool SharesGlobal => _sharedClient is not null;

    /// <summary>The component label's value on replica Pods (<c>flytesharp runs gc</c> finds them by it).</summary>
    public const string Component = "replica";

    /// <summary>Replicas alive in this run's pools.</summary>
    public int Count => _pools.Values.Sum(p => p.Count);

    /// <summary>Runs a Python <paramref name="request"/> (its environment has a reuse policy) on a replica Pod of <paramref name="image"/>.</summary>
    /// <param name="request">The action.</param>
    /// <param name="image">The environment's image.</param>
    /// <param name="bundle">Where the Pods fetch the run's bundle.</param>
    /// <param name="cancellationToken">Cancels the call (its replica is then deleted).</param>
    public async Task<TaskReply> ExecuteAsync(PythonTaskRequest request, ContainerImage image, ContainerBundleSource? bundle, CancellationToken cancellationToken)
    {
        var digest = (_pythonBundle ?? throw new InvalidOperationException("not the Python engine")).Digest;
        var program = new ReplicaPodProgram("python", bundle is null ? "image" : digest,
            (url, replica, _) => RunnerCommand.For(image, bundle, bundle is null ? null : digest,
                ["--serve-pull", url, "--replica", replica, "--controller-token-file", ControllerProtocol.ContainerTokenPath]),
            () => new Dictionary<string, object?>
            {
                ["op"] = "reload",
                ["bundle"] = bundle!.Source,
                ["digest"] = digest,
                ["bundle_dir"] = ContainerReplica.BundleDirectoryFor(digest),
                ["paths"] = image.ImportPaths.ToArray(),
                ["fetch_attempts"] = Registry.RegistryRetry.MaxAttempts,
                ["fetch_backoff"] = Registry.RegistryRetry.InitialBackoff.TotalSeconds,
            });
        var inputsJson = request.InputsFile is { } file ? await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false) : request.InputsJson;
        return (await UseAsync(request.Environment, image, program, request.Task.ToString(), mayWait: true, async (replica, ct) =>
        {
            request.Placed?.Invoke(image.Uri, $"pod {replica.Name} in namespace {_pods.Namespace} (reusable, call {(replica.Calls + 1).ToString(CultureInfo.InvariantCulture)})");
            var message = new Dictionary<string, object?>
            {
                ["op"] = "call",
                ["task"] = request.Task.ToString(),
                ["inputs"] = System.Text.Json.JsonDocument.Parse(inputsJson).RootElement.Clone(),
                // The runner answers a larger reply with a small error instead of a body the controller would refuse.
                ["max_reply_bytes"] = replica.MaxReplyBytes,
            };
            using var reply = await replica.SendAsync(message, ct).ConfigureAwait(false);
            return ParseReply(reply, replica, request.Log);
        }, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Runs <paramref name="call"/> on a replica Pod of <paramref name="environment"/> that serves <paramref name="program"/>'s
    /// code: an idle one of the pool (reloaded first when it serves other code), else a new one while the policy allows.
    /// The replica goes back to the pool when <paramref name="call"/> returns, and is deleted when it throws (except a
    /// refused reload, after which the old code still serves).
    /// </summary>
    /// <returns>The call's result; null when <paramref name="mayWait"/> is false and no replica was free at once.</returns>
    /// <exception cref="ContainerOutOfMemoryException">The Pod was OOMKilled under the environment's memory limit.</exception>
    /// <exception cref="PythonWorkerDiedException">The Pod ended or went silent during the call (the action is retried per its retries).</exception>
    public async Task<T?> UseAsync<T>(TaskEnvironment environment, ContainerImage image, ReplicaPodProgram program, string taskName, bool mayWait,
        Func<PodReplica, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
        where T : class
    {
        var policy = environment.Reuse ?? throw new ArgumentException("the environment has no reuse policy", nameof(environment));
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var shared = policy.Scope == ReuseScope.Global && _sharedClient is { } client
            ? SharedReplicaHub.Get(HubKey(), client, _pods.Namespace, _config.ControllerListen, _config.ControllerUrl!, _time)
            : null;
        var pool = shared?.Pool(SharedKey(program.Kind, environment, image), policy) ?? _pools.GetOrAdd(environment.Name, _ => new ReplicaPool<PodReplica>(policy, _time));
        if (shared is not null)
        {
            // A task that prints the shared token does not put it in this run's log or record.
            _secrets.Protect(shared.Server.Token.Value);
        }

        Task<PodReplica> Start(CancellationToken ct) => shared is null
            ? StartAsync(_pods, _controller.Get(), _tokenSecret, _runName, environment, image, program, false, ct)
            : StartAsync(shared.Pods, shared.Server, shared.TokenSecret, SharedReplicaHub.OwnerRun, environment, image, program, true, ct);
        var taken = mayWait
            ? await pool.AcquireAsync(Start, cancellationToken).ConfigureAwait(false)
            : await pool.TryAcquireAsync(Start, cancellationToken).ConfigureAwait(false);
        if (taken is not { } acquired)
        {
            return null;
        }

        var replica = acquired.Replica;

        var healthy = false;
        try
        {
            if (replica.Code != program.Code)
            {
                try
                {
                    await replica.ReloadAsync(program.Reload(), program.Code, cancellationToken).ConfigureAwait(false);
                }
                catch (FlyteSharpException)
                {
                    healthy = true; // refused: the old code still serves, the replica stays usable
                    throw;
                }
            }

            var result = await call(replica, cancellationToken).ConfigureAwait(false);
            healthy = true;
            return result;
        }
        catch (PythonWorkerDiedException) when (replica.OutOfMemory && environment.Resources.MemoryBytes is not null)
        {
            throw new ContainerOutOfMemoryException(taskName, environment.Name, environment.Resources.Memory);
        }
        finally
        {
            pool.Release(replica, healthy);
        }
    }

    /// <summary>
    /// A replica's reply as the action's result: its captured output into <paramref name="log"/>, then the reply checked.
    /// A remote reply never names a file: the path would be one of the driver's host, chosen by the task's code. A replica
    /// whose reply is refused is not trusted with another call (the exception retires it).
    /// </summary>
    public static TaskReply ParseReply(System.Text.Json.JsonDocument reply, PodReplica replica, Action<string, string> log)
    {
        var root = reply.RootElement;
        foreach (var stream in new[] { "stdout", "stderr" })
        {
            if (root.ValueKind == System.Text.Json.JsonValueKind.Object && root.TryGetProperty(stream, out var text)
                && text.ValueKind == System.Text.Json.JsonValueKind.String && text.GetString() is { Length: > 0 } s)
            {
                foreach (var line in s.TrimEnd('\n').Split('\n'))
                {
                    log(stream, line);
                }
            }
        }

        return RunnerProtocol.ParseCall(root, 0, $"reusable pod {replica.Name}");
    }

    /// <summary>Deletes every replica Pod of the run (waiting for the deletions), then the run's token Secret.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var pool in _pools.Values)
        {
            await pool.DisposeAsync().ConfigureAwait(false);
        }

        if (_ownsTokenSecret)
        {
            await _tokenSecret.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<PodReplica> StartAsync(KubernetesPods pods, ControllerServer server, RunTokenSecret tokenSecret, string owner,
        TaskEnvironment environment, ContainerImage image, ReplicaPodProgram program, bool shared, CancellationToken cancellationToken)
    {
        await pods.CheckSecretsAsync(environment, cancellationToken).ConfigureAwait(false);
        var secret = await tokenSecret.EnsureAsync(server.Token, cancellationToken).ConfigureAwait(false);
        var name = KubernetesPodSpec.PodName(owner, Interlocked.Increment(ref _sequence), "r" + Guid.NewGuid().ToString("N")[..6]);
        var mailbox = server.OpenReplica(name);
        var pod = Pod(name, environment, image, program.Command(server.Address.Text, mailbox.Id, shared), secret, owner);
        return await PodReplica.StartAsync(pods, pod, mailbox, program.Code, server.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What identifies the process-wide hub: the cluster and namespace, and where Pods reach the driver.</summary>
    private string HubKey() => string.Join('\n', _config.KubeConfig, _config.KubernetesContext, _pods.Namespace, _config.ControllerListen, _config.ControllerUrl);

    /// <summary>
    /// What must be equal for two runs to share a replica Pod: everything it was created with except the code (which a
    /// reload changes) — environment, image, import paths, resources, variables, secrets (references), the policy.
    /// </summary>
    private static string SharedKey(string kind, TaskEnvironment environment, ContainerImage image)
    {
        var key = ReplicaKey.For(kind, environment, image);
        foreach (var secret in environment.Secrets)
        {
            key.Add(secret.ToString());
        }

        return key.Digest();
    }

    /// <summary>The Pod of one Python replica (see the general <see cref="Pod(string, TaskEnvironment, ContainerImage, IReadOnlyList{string}, string, string?)"/>).</summary>
    internal V1Pod Pod(string name, TaskEnvironment environment, ContainerImage image, ContainerBundleSource? bundle, string digest, string controllerUrl,
        string replicaId, string tokenSecret, string? owner = null) =>
        Pod(name, environment, image, RunnerCommand.For(image, bundle, bundle is null ? null : digest,
            ["--serve-pull", controllerUrl, "--replica", replicaId, "--controller-token-file", ControllerProtocol.ContainerTokenPath]), tokenSecret, owner);

    /// <summary>
    /// The Pod of one replica: the environment's image, resources, variables and secrets; <paramref name="command"/> (a
    /// serve loop pulling from the driver as its replica); the token Secret mounted as its token file; owner labels so
    /// <c>flytesharp runs gc</c> deletes the Pods of a driver that is gone.
    /// </summary>
    internal V1Pod Pod(string name, TaskEnvironment environment, ContainerImage image, IReadOnlyList<string> command, string tokenSecret, string? owner = null)
    {
        owner ??= _runName;
        var pod = KubernetesPodSpec.Build(name, _pods.Namespace, image, environment.Resources, command, null, owner, "reusable", "replica",
            environment.Name, environment.EnvVars, environment.Secrets);
        ControllerTokenSecret.Reference(pod, tokenSecret);
        ControllerTokenSecret.AddOwner(pod.Metadata, owner, Component);
        return pod;
    }
}
