using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Reuse;

/// <summary>
/// The warm replicas (containers or Pods) of one reusable environment (<see cref="ReusePolicy"/>): at most
/// <see cref="ReusePolicy.Replicas"/> at once, each running one action at a time. An action takes an idle replica, or starts one while fewer than the
/// bound exist, or waits. A replica that sat idle for <see cref="ReusePolicy.IdleTtl"/> is removed; a replica whose call
/// broke (it died, or the call was cancelled) is removed at once and never handed out again. Removal is the replica's
/// own <see cref="IReplica.RetireAsync"/>.
/// </summary>
/// <typeparam name="TReplica">The kind of replica.</typeparam>
internal sealed class ReplicaPool<TReplica> : IAsyncDisposable
    where TReplica : class, IReplica
{
    private readonly ReusePolicy _policy;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();
    private readonly Stack<TReplica> _idle = new();
    private readonly HashSet<TReplica> _all = [];
    private readonly Dictionary<TReplica, ITimer> _idleTimers = [];
    private readonly HashSet<Task> _removals = [];
    private bool _disposed;

    public ReplicaPool(ReusePolicy policy, TimeProvider time)
    {
        _policy = policy;
        _time = time;
        _slots = new SemaphoreSlim(policy.Replicas, policy.Replicas);
    }

    /// <summary>The policy the pool follows.</summary>
    public ReusePolicy Policy => _policy;

    /// <summary>Replicas alive (idle or busy).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _all.Count;
            }
        }
    }

    /// <summary>
    /// Takes an idle replica, or starts one with <paramref name="start"/> while fewer than the bound exist, or waits for
    /// one to be released. Hand it back with <see cref="Release"/>.
    /// </summary>
    /// <returns>The replica and whether it was started for this call.</returns>
    public async Task<(TReplica Replica, bool Started)> AcquireAsync(Func<CancellationToken, Task<TReplica>> start, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await TakeAsync(start, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// As <see cref="AcquireAsync"/>, but never waits for a busy replica: null when all <see cref="ReusePolicy.Replicas"/>
    /// are in use. For a caller whose own callers may hold them (a nested call from a replica), where waiting could be forever.
    /// </summary>
    public async Task<(TReplica Replica, bool Started)?> TryAcquireAsync(Func<CancellationToken, Task<TReplica>> start, CancellationToken cancellationToken)
    {
        if (!_slots.Wait(0, CancellationToken.None))
        {
            return null;
        }

        return await TakeAsync(start, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(TReplica Replica, bool Started)> TakeAsync(Func<CancellationToken, Task<TReplica>> start, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                TReplica? candidate = null;
                lock (_gate)
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    if (_idle.TryPop(out var idle))
                    {
                        candidate = idle;
                        if (_idleTimers.Remove(idle, out var timer))
                        {
                            timer.Dispose();
                        }
                    }
                }

                if (candidate is null)
                {
                    break;
                }

                if (!candidate.HasExited)
                {
                    return (candidate, false);
                }

                // It died while idle (killed from outside): never hand it out.
                Remove(candidate, kill: true);
            }

            var replica = await start(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                _all.Add(replica);
            }

            return (replica, true);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>Hands a replica back: idle (its TTL starts) when <paramref name="healthy"/>, otherwise removed.</summary>
    public void Release(TReplica replica, bool healthy)
    {
        try
        {
            bool keep;
            lock (_gate)
            {
                keep = healthy && !_disposed && !replica.HasExited;
                if (keep)
                {
                    _idle.Push(replica);
                    if (_policy.IdleTtl != Timeout.InfiniteTimeSpan)
                    {
                        _idleTimers[replica] = _time.CreateTimer(_ => Expire(replica), null, _policy.IdleTtl, Timeout.InfiniteTimeSpan);
                    }
                }
            }

            if (!keep)
            {
                Remove(replica, kill: true);
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Removes every replica (busy ones are killed) and waits until their containers are gone.</summary>
    public async ValueTask DisposeAsync()
    {
        TReplica[] all;
        lock (_gate)
        {
            _disposed = true;
            all = [.. _all];
            foreach (var timer in _idleTimers.Values)
            {
                timer.Dispose();
            }

            _idleTimers.Clear();
            _idle.Clear();
        }

        foreach (var replica in all)
        {
            Remove(replica, kill: false);
        }

        await DrainAsync().ConfigureAwait(false);
    }

    /// <summary>Waits for the retirements started so far (what each replica leaves behind is then being removed; the owner drains that).</summary>
    public async Task DrainAsync()
    {
        while (true)
        {
            Task[] pending;
            lock (_gate)
            {
                pending = [.. _removals];
            }

            if (pending.Length == 0)
            {
                return;
            }

            await Task.WhenAll(pending).ConfigureAwait(false);
        }
    }

    private void Expire(TReplica replica)
    {
        lock (_gate)
        {
            // Only an idle replica expires: one taken since the timer was set had its timer disposed, but a tick may already be under way.
            if (!_idleTimers.Remove(replica, out var timer) || !_idle.Contains(replica))
            {
                return;
            }

            timer.Dispose();
            var rest = _idle.Where(r => r != replica).Reverse().ToArray();
            _idle.Clear();
            foreach (var r in rest)
            {
                _idle.Push(r);
            }
        }

        Remove(replica, kill: false);
    }

    private void Remove(TReplica replica, bool kill)
    {
        lock (_gate)
        {
            if (!_all.Remove(replica))
            {
                return;
            }
        }

        var removal = Task.Run(() => replica.RetireAsync(kill));
        lock (_gate)
        {
            _removals.Add(removal);
        }

        _ = removal.ContinueWith(
            t =>
            {
                lock (_gate)
                {
                    _removals.Remove(t);
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
