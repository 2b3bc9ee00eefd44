using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using FlyteSharp.Controller;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;
using k8s;
using k8s.Models;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// Runs the actions of environments with a <see cref="ReusePolicy"/> on long-lived Pods (<see cref="PodReplica"/>): one
/// <see cref="ReplicaPool{TReplica}"/> per environment for the run, or, for <see cref="ReuseScope.Global"/>, a pool of
/// this driver process's <see cref="SharedReplicaHub"/> (a Pod serving another bundle digest is reloaded first). Each call is a serve request pulled by an idle
/// replica from the run's controller API, its values inline (a Pod shares no directory with the driver), its captured
/// output in the reply. The run's token reaches the Pods as the run's token Secret, mounted as a file; never in a spec.
/// </summary>
internal sealed class ReusablePods : IAsyncDisposable
{
    private readonly PythonExecutorContext _context;
    private readonly KubernetesPods _pods;
    private readonly ControllerServerLink _controller;
    private readonly TimeProvider _time;
    private readonly RunTokenSecret _tokenSecret;
    private readonly ConcurrentDictionary<string, ReplicaPool<PodReplica>> _pools = new(StringComparer.Ordinal);
    private readonly Func<IKubernetes>? _sharedClient;
    private static int _sequence;
    private int _disposed;

    /// <param name="context">The run.</param>
    /// <param name="pods">The run's Pods API.</param>
    /// <param name="controller">The run's controller API server.</param>
    /// <param name="time">The clock (idle TTLs).</param>
    /// <param name="sharedClient">
    /// Makes an API client of the process's own for <see cref="ReuseScope.Global"/> replicas; null (or a
    /// <c>controller_url</c> without <c>{port}</c>) applies Global per run.
    /// </param>
    public ReusablePods(PythonExecutorContext context, KubernetesPods pods, ControllerServerLink controller, TimeProvider time, Func<IKubernetes>? sharedClient = null)
    {
        _context = context;
        _pods = pods;
        _controller = controller;
        _time = time;
        _tokenSecret = new RunTokenSecret(pods, context.RunName);
        _sharedClient = context.Config.ControllerUrl?.Contains("{port}", StringComparison.Ordinal) == true ? sharedClient : null;
    }

    /// <summary>Whether <see cref="ReuseScope.Global"/> replicas outlive the run (a process-wide hub can serve them).</summary>
    public bool SharesGlobal => _sharedClient is not null;

    /// <summary>The component label's value on replica Pods (<c>flytesharp runs gc</c> finds them by it).</summary>
    public const string Component = "replica";

    /// <summary>Replicas alive in this run's pools.</summary>
    public int Count => _pools.Values.Sum(p => p.Count);

    /// <summary>Runs <paramref name="request"/> (its environment has a reuse policy) on a replica Pod of <paramref name="image"/>.</summary>
    /// <param name="request">The action.</param>
    /// <param name="image">The environment's image.</param>
    /// <param name="bundle">Where the Pods fetch the run's bundle.</param>
    /// <param name="cancellationToken">Cancels the call (its replica is then deleted).</param>
    public async Task<TaskReply> ExecuteAsync(PythonTaskRequest request, ContainerImage image, ContainerBundleSource? bundle, CancellationToken cancellationToken)
    {
        var environment = request.Environment;
        var policy = environment.Reuse ?? throw new ArgumentException("the environment has no reuse policy", nameof(request));
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var shared = policy.Scope == ReuseScope.Global && _sharedClient is { } client
            ? SharedReplicaHub.Get(HubKey(), client, _pods.Namespace, _context.Config.ControllerListen, _context.Config.ControllerUrl!, _time)
            : null;
        var pool = shared?.Pool(SharedKey(environment, image), policy) ?? _pools.GetOrAdd(environment.Name, _ => new ReplicaPool<PodReplica>(policy, _time));
        if (shared is not null)
        {
            // A task that prints the shared token does not put it in this run's log or record.
            _context.Secrets.Protect(shared.Server.Token.Value);
        }

        var (replica, _) = await pool.AcquireAsync(ct => shared is null
            ? StartAsync(_pods, _controller.Get(), _tokenSecret, _context.RunName, environment, image, bundle, ct)
            : StartAsync(shared.Pods, shared.Server, shared.TokenSecret, SharedReplicaHub.OwnerRun, environment, image, bundle, ct), cancellationToken).ConfigureAwait(false);
        var healthy = false;
        try
        {
            if (bundle is not null && replica.Digest != _context.Bundle.Digest)
            {
                try
                {
                    await replica.ReloadAsync(bundle, _context.Bundle.Digest, image.ImportPaths, cancellationToken).ConfigureAwait(false);
                }
                catch (FlyteSharpException)
                {
                    healthy = true; // refused: the old code still serves, the replica stays usable
                    throw;
                }
            }

            request.Placed?.Invoke(image.Uri, $"pod {replica.Name} in namespace {_pods.Namespace} (reusable, call {(replica.Calls + 1).ToString(CultureInfo.InvariantCulture)})");
            var inputsJson = request.InputsFile is { } file ? await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false) : request.InputsJson;
            var message = new Dictionary<string, object?>
            {
                ["op"] = "call",
                ["task"] = request.Task.ToString(),
                ["inputs"] = System.Text.Json.JsonDocument.Parse(inputsJson).RootElement.Clone(),
                // The runner answers a larger reply with a small error instead of a body the controller would refuse.
                ["max_reply_bytes"] = replica.MaxReplyBytes,
            };
            using var reply = await replica.SendAsync(message, cancellationToken).ConfigureAwait(false);
            var root = reply.RootElement;
            foreach (var stream in new[] { "stdout", "stderr" })
            {
                if (root.TryGetProperty(stream, out var text) && text.ValueKind == System.Text.Json.JsonValueKind.String && text.GetString() is { Length: > 0 } s)
                {
                    foreach (var line in s.TrimEnd('\n').Split('\n'))
                    {
                        request.Log(stream, line);
                    }
                }
            }

            // A remote reply never names a file: the path would be one of the driver's host, chosen by the task's code. A
            // replica whose reply is refused is not trusted with another call.
            var result = RunnerProtocol.ParseCall(root, 0, $"reusable pod {replica.Name}");
            healthy = true;
            return result;
        }
        catch (PythonWorkerDiedException) when (replica.OutOfMemory && environment.Resources.MemoryBytes is not null)
        {
            throw new ContainerOutOfMemoryException(request.Task.ToString(), environment.Name, environment.Resources.Memory);
        }
        finally
        {
            pool.Release(replica, healthy);
        }
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

        await _tokenSecret.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<PodReplica> StartAsync(KubernetesPods pods, ControllerServer server, RunTokenSecret tokenSecret, string owner,
        TaskEnvironment environment, ContainerImage image, ContainerBundleSource? bundle, CancellationToken cancellationToken)
    {
        await pods.CheckSecretsAsync(environment, cancellationToken).ConfigureAwait(false);
        var secret = await tokenSecret.EnsureAsync(server.Token, cancellationToken).ConfigureAwait(false);
        var name = KubernetesPodSpec.PodName(owner, Interlocked.Increment(ref _sequence), "r" + Guid.NewGuid().ToString("N")[..6]);
        var mailbox = server.OpenReplica(name);
        var digest = bundle is null ? null : _context.Bundle.Digest;
        var pod = Pod(name, environment, image, bundle, _context.Bundle.Digest, server.Address.Text, mailbox.Id, secret, owner);
        return await PodReplica.StartAsync(pods, pod, mailbox, digest, server.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What identifies the process-wide hub: the cluster and namespace, and where Pods reach the driver.</summary>
    private string HubKey() => string.Join('\n', _context.Config.KubeConfig, _context.Config.KubernetesContext, _pods.Namespace, _context.Config.ControllerListen, _context.Config.ControllerUrl);

    /// <summary>
    /// What must be equal for two runs to share a replica Pod: everything it was created with except the code (which a
    /// reload changes) — environment, image, import paths, resources, variables, secrets (references), the policy.
    /// </summary>
    private static string SharedKey(TaskEnvironment environment, ContainerImage image)
    {
        var text = new StringBuilder();
        void Add(string? value) => text.Append((value ?? "").Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append('\n');
        Add(environment.Name);
        Add(image.ToString());
        Add(string.Join("\0", image.ImportPaths));
        Add(environment.Resources.ToString());
        Add(environment.Reuse!.ToString());
        foreach (var (key, value) in environment.EnvVars)
        {
            Add(key);
            Add(value);
        }

        foreach (var secret in environment.Secrets)
        {
            Add(secret.ToString());
        }

        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// The Pod of one replica: the environment's image, resources, variables and secrets; the runner pulling from
    /// <paramref name="controllerUrl"/> as replica <paramref name="replicaId"/>; the token Secret mounted as its token file;
    /// owner labels so <c>flytesharp runs gc</c> deletes the Pods of a driver that is gone.
    /// </summary>
    internal V1Pod Pod(string name, TaskEnvironment environment, ContainerImage image, ContainerBundleSource? bundle, string digest, string controllerUrl,
        string replicaId, string tokenSecret, string? owner = null)
    {
        owner ??= _context.RunName;
        var command = RunnerCommand.For(image, bundle, bundle is null ? null : digest,
            ["--serve-pull", controllerUrl, "--replica", replicaId, "--controller-token-file", ControllerProtocol.ContainerTokenPath]);
        var pod = KubernetesPodSpec.Build(name, _pods.Namespace, image, environment.Resources, command, null, owner, "reusable", "replica",
            environment.Name, environment.EnvVars, environment.Secrets);
        ControllerTokenSecret.Reference(pod, tokenSecret);
        ControllerTokenSecret.AddOwner(pod.Metadata, owner, Component);
        return pod;
    }
}
