using System.Globalization;
using System.Text.Json;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Reuse;
using k8s.Models;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// One long-lived Pod of a reusable environment: the environment's image and resources running a pulling serve loop
/// (<see cref="ReplicaPodProgram"/>: <c>flytesharp_runner.py --serve-pull</c> or <c>flytesharp-worker.dll --serve-pull</c>),
/// which pulls its serve requests from the run's controller API
/// (<see cref="ReplicaMailbox"/>) with the run's token (the mounted token Secret) and posts each reply back. The Pod is
/// watched while it lives: when its container ends, it is deleted, or it stays silent longer than
/// <see cref="SilenceLimit"/>, the call under way fails as a died worker (the action is retried per its retries) and
/// the replica is never handed out again.
/// </summary>
internal sealed class PodReplica : IReplica, IDisposable
{
    private readonly KubernetesPods _pods;
    private readonly ReplicaMailbox _mailbox;
    private readonly CancellationTokenSource _stopWatching = new();
    private readonly Task<PodEnd> _ended;
    private readonly TimeSpan _silenceLimit;

    private PodReplica(KubernetesPods pods, string name, ReplicaMailbox mailbox, V1Pod created, TimeSpan silenceLimit, string code, long maxReplyBytes)
    {
        _pods = pods;
        Name = name;
        Code = code;
        MaxReplyBytes = maxReplyBytes;
        _mailbox = mailbox;
        _silenceLimit = silenceLimit;
        _ended = Task.Run(() => pods.MonitorAsync(created, _stopWatching.Token));
    }

    /// <summary>The silence after which a replica counts as gone: its runner sends a heartbeat every 10 s and polls at least every 25 s.</summary>
    internal static TimeSpan SilenceLimit { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a new replica may take to make its first poll (image pull, bundle fetch) before its start fails.</summary>
    internal static TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The Pod's name.</summary>
    public string Name { get; }

    /// <summary>What it serves (<see cref="ReplicaPodProgram.Code"/>: a bundle digest, or code baked into the image).</summary>
    public string Code { get; private set; }

    /// <summary>The largest reply its controller accepts (the runner answers a larger one with a small error).</summary>
    public long MaxReplyBytes { get; }

    /// <summary>Actions this replica has run.</summary>
    public int Calls { get; private set; }

    /// <inheritdoc/>
    public bool HasExited => _ended.IsCompleted || _mailbox.SinceLastContact > _silenceLimit;

    /// <summary>
    /// Creates the Pod <paramref name="pod"/> (its runner told to pull from <paramref name="mailbox"/>) and waits for its
    /// first poll, so an unpullable image, a refused bundle or an unreachable controller fails here, not mid-action.
    /// </summary>
    /// <exception cref="FlyteSharpException">The Pod never polled: why, with its log's last lines.</exception>
    /// <param name="pods">The API the Pod is created, watched and deleted through.</param>
    /// <param name="pod">The Pod (<see cref="ReusablePods.Pod(string, Tasks.TaskEnvironment, Containers.ContainerImage, IReadOnlyList{string}, string, string?)"/>).</param>
    /// <param name="mailbox">Where its runner pulls from.</param>
    /// <param name="code">What the Pod starts serving (<see cref="ReplicaPodProgram.Code"/>).</param>
    /// <param name="maxReplyBytes">The largest reply the mailbox's server accepts.</param>
    /// <param name="cancellationToken">Cancels the start (the Pod is deleted).</param>
    public static async Task<PodReplica> StartAsync(KubernetesPods pods, V1Pod pod, ReplicaMailbox mailbox, string code, long maxReplyBytes, CancellationToken cancellationToken)
    {
        var name = pod.Metadata.Name;
        V1Pod created;
        try
        {
            created = await pods.CreateAsync(pod).ConfigureAwait(false);
        }
        catch
        {
            mailbox.Dispose();
            throw;
        }

        var replica = new PodReplica(pods, name, mailbox, created, SilenceLimit, code, maxReplyBytes);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StartTimeout);
            var first = await Task.WhenAny(mailbox.FirstContact, replica._ended).WaitAsync(timeout.Token).ConfigureAwait(false);
            if (first == replica._ended)
            {
                var end = await replica._ended.ConfigureAwait(false);
                var tail = await pods.LogTailAsync(name, 20, CancellationToken.None).ConfigureAwait(false);
                throw new FlyteSharpException(
                    $"reusable pod {name} ended before it asked the driver for work ({Describe(end)}){(tail.Count == 0 ? "" : ":\n" + string.Join('\n', tail))}",
                    fix: end.ExitCode == Runner.RunnerProtocol.BundleRefusedExitCode
                        ? "the bundle in the store is not the one this run recorded, or the pod cannot reach the store"
                        : "check that the image has FlyteSharp's runner layer (Python 3.9+) or .NET worker layer (Image.FromDotnetBase), that pods reach the bundle's registry, and that [kubernetes] controller_url is this driver's address as pods see it");
            }

            return replica;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await replica.RetireAsync(kill: true).ConfigureAwait(false);
            throw new FlyteSharpException(
                $"reusable pod {name} did not ask the driver for work within {StartTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s",
                fix: "check that pods can reach this driver at [kubernetes] controller_url (kubectl logs " + name + "), and that the image can be pulled");
        }
        catch
        {
            await replica.RetireAsync(kill: true).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Sends one serve request and waits for its reply, the Pod's end, or its silence. A Pod that ended or went silent
    /// surfaces as <see cref="PythonWorkerDiedException"/> (the action is retried per its retries).
    /// </summary>
    public async Task<JsonDocument> SendAsync(Dictionary<string, object?> request, CancellationToken cancellationToken)
    {
        Calls++;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reply = _mailbox.SendAsync(request, stop.Token);
        var silence = WatchSilenceAsync(stop.Token);
        var first = await Task.WhenAny(reply, _ended, silence).ConfigureAwait(false);
        if (first == reply || cancellationToken.IsCancellationRequested)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            return await reply.ConfigureAwait(false);
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await reply.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default)
            .ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        if (first == _ended)
        {
            var end = await _ended.ConfigureAwait(false);
            var tail = await _pods.LogTailAsync(Name, 20, CancellationToken.None).ConfigureAwait(false);
            if (end.Reason == "OOMKilled")
            {
                throw new PythonWorkerDiedException(137, $"reusable pod {Name} was OOMKilled");
            }

            throw new PythonWorkerDiedException(end.ExitCode ?? -1, $"reusable pod {Name} ended while running the task ({Describe(end)})" + (tail.Count == 0 ? "" : "\n" + string.Join('\n', tail)));
        }

        throw new PythonWorkerDiedException(-1, $"reusable pod {Name} sent nothing for {_silenceLimit.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s while running the task (its node or network failed, or it hangs outside Python)");
    }

    /// <summary>
    /// Serves other code in the same Pod: <paramref name="request"/> (<see cref="ReplicaPodProgram.Reload"/>) has the Python
    /// runner fetch the bundle and re-execute its interpreter, or the .NET worker load it into a fresh load context; either
    /// keeps pulling from the same mailbox.
    /// </summary>
    /// <exception cref="FlyteSharpException">The Pod refused the code (its old code keeps serving).</exception>
    public async Task ReloadAsync(Dictionary<string, object?> request, string code, CancellationToken cancellationToken)
    {
        using var reply = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        Calls--; // a reload is not an action
        var root = reply.RootElement;
        if (!root.TryGetProperty("ok", out var ok) || ok.ValueKind != JsonValueKind.True)
        {
            var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object && e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
                ? m.GetString()
                : "no reason given";
            throw new FlyteSharpException($"reusable pod {Name} refused the code bundle {code}: {error}",
                fix: "the bundle in the store is not the one this run recorded, or the pod cannot reach the store");
        }

        Code = code;
    }

    /// <summary>Whether the Pod ended out of memory (read after a died call).</summary>
    public bool OutOfMemory => _ended.IsCompletedSuccessfully && _ended.Result.Reason == "OOMKilled";

    /// <inheritdoc/>
    /// <remarks>Stops its mailbox (a poll still waiting is told to stop) and deletes the Pod at once; an idle Pod has nothing to finish.</remarks>
    public async Task RetireAsync(bool kill)
    {
        _mailbox.Dispose();
        await _stopWatching.CancelAsync().ConfigureAwait(false);
        await _pods.DeleteAsync(Name).ConfigureAwait(false);
        await _ended.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        Dispose();
    }

    /// <summary>Releases the watch's cancellation (after <see cref="RetireAsync"/>, which ends the watch).</summary>
    public void Dispose() => _stopWatching.Dispose();

    private async Task WatchSilenceAsync(CancellationToken cancellationToken)
    {
        var step = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, _silenceLimit.Ticks / 10));
        while (_mailbox.SinceLastContact <= _silenceLimit)
        {
            await Task.Delay(step, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Describe(PodEnd end) =>
        end.Message ?? $"exit code {end.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}, reason {end.Reason ?? "none"}";
}
