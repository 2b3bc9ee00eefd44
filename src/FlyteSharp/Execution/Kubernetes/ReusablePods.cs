using System.Collections.Concurrent;
using System.Globalization;
using FlyteSharp.Controller;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;
using k8s.Models;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// Runs the actions of environments with a <see cref="ReusePolicy"/> on long-lived Pods (<see cref="PodReplica"/>): one
/// <see cref="ReplicaPool{TReplica}"/> per environment for the run. Each call is a serve request pulled by an idle
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
    private int _sequence;
    private int _disposed;

    public ReusablePods(PythonExecutorContext context, KubernetesPods pods, ControllerServerLink controller, TimeProvider time)
    {
        _context = context;
        _pods = pods;
        _controller = controller;
        _time = time;
        _tokenSecret = new RunTokenSecret(pods, context.RunName);
    }

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
        var pool = _pools.GetOrAdd(environment.Name, _ => new ReplicaPool<PodReplica>(policy, _time));
        var (replica, _) = await pool.AcquireAsync(ct => StartAsync(environment, image, bundle, ct), cancellationToken).ConfigureAwait(false);
        var healthy = false;
        try
        {
            request.Placed?.Invoke(image.Uri, $"pod {replica.Name} in namespace {_pods.Namespace} (reusable, call {(replica.Calls + 1).ToString(CultureInfo.InvariantCulture)})");
            var server = _controller.Get();
            var inputsJson = request.InputsFile is { } file ? await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false) : request.InputsJson;
            var message = new Dictionary<string, object?>
            {
                ["op"] = "call",
                ["task"] = request.Task.ToString(),
                ["inputs"] = System.Text.Json.JsonDocument.Parse(inputsJson).RootElement.Clone(),
                // The runner answers a larger reply with a small error instead of a body the controller would refuse.
                ["max_reply_bytes"] = server.MaxBodyBytes,
            };
            using var reply = await replica.SendAsync(message, cancellationToken).ConfigureAwait(false);
            healthy = true;
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

            // A remote reply never names a file: the path would be one of the driver's host, chosen by the task's code.
            return RunnerProtocol.ParseCall(root, 0, $"reusable pod {replica.Name}");
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

    private async Task<PodReplica> StartAsync(TaskEnvironment environment, ContainerImage image, ContainerBundleSource? bundle, CancellationToken cancellationToken)
    {
        await _pods.CheckSecretsAsync(environment, cancellationToken).ConfigureAwait(false);
        var server = _controller.Get();
        var secret = await _tokenSecret.EnsureAsync(server.Token, cancellationToken).ConfigureAwait(false);
        var name = KubernetesPodSpec.PodName(_context.RunName, Interlocked.Increment(ref _sequence), "r" + Guid.NewGuid().ToString("N")[..6]);
        var mailbox = server.OpenReplica(name);
        var pod = Pod(name, environment, image, bundle, _context.Bundle.Digest, server.Address.Text, mailbox.Id, secret);
        return await PodReplica.StartAsync(_pods, pod, mailbox, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The Pod of one replica: the environment's image, resources, variables and secrets; the runner pulling from
    /// <paramref name="controllerUrl"/> as replica <paramref name="replicaId"/>; the token Secret mounted as its token file;
    /// owner labels so <c>flytesharp runs gc</c> deletes the Pods of a driver that is gone.
    /// </summary>
    internal V1Pod Pod(string name, TaskEnvironment environment, ContainerImage image, ContainerBundleSource? bundle, string digest, string controllerUrl,
        string replicaId, string tokenSecret)
    {
        var command = RunnerCommand.For(image, bundle, bundle is null ? null : digest,
            ["--serve-pull", controllerUrl, "--replica", replicaId, "--controller-token-file", ControllerProtocol.ContainerTokenPath]);
        var pod = KubernetesPodSpec.Build(name, _pods.Namespace, image, environment.Resources, command, null, _context.RunName, "reusable", "replica",
            environment.Name, environment.EnvVars, environment.Secrets);
        ControllerTokenSecret.Reference(pod, tokenSecret);
        ControllerTokenSecret.AddOwner(pod.Metadata, _context.RunName, Component);
        return pod;
    }
}
