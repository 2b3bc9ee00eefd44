using System.Text.Json;

namespace FlyteSharp.Execution.Controller;

/// <summary>
/// The driver's end of one pulling replica (a reusable Pod running <c>flytesharp_runner.py --serve-pull</c>): at most one
/// serve request outstanding, handed to the replica's next poll (<c>GET /v1/replicas/{id}/next</c>) and completed by its
/// reply (<c>POST /v1/replicas/{id}/replies</c>) carrying the same id. Every contact (poll, reply, heartbeat) is recorded,
/// so the owner can tell a replica that went silent. A request whose poll connection broke before the replica read it is
/// handed out again on the next poll: the runner polls only after it replied, so a poll while a request is out means
/// the request never arrived.
/// </summary>
internal sealed class ReplicaMailbox : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Action<ReplicaMailbox> _closed;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _firstContact = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Pending? _pending;
    private long _lastContact;
    private long _nextId;
    private bool _stopped;

    internal ReplicaMailbox(string id, TimeProvider time, Action<ReplicaMailbox> closed)
    {
        Id = id;
        _time = time;
        _closed = closed;
        _lastContact = time.GetTimestamp();
    }

    /// <summary>The replica's id (a random name the driver gave it; only this run's server knows it).</summary>
    public string Id { get; }

    /// <summary>Completes at the replica's first contact: its runner started, fetched the bundle and can reach the driver.</summary>
    public Task FirstContact => _firstContact.Task;

    /// <summary>How long since the replica last polled, replied or sent a heartbeat.</summary>
    public TimeSpan SinceLastContact => _time.GetElapsedTime(Interlocked.Read(ref _lastContact));

    /// <summary>Sends one serve request (an <c>id</c> is added) and waits for the replica's reply to it.</summary>
    /// <exception cref="ObjectDisposedException">The mailbox was closed (the replica retired) before the reply came.</exception>
    public async Task<JsonDocument> SendAsync(Dictionary<string, object?> request, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        request["id"] = id;
        var pending = new Pending(id, JsonSerializer.SerializeToUtf8Bytes(request));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (_pending is not null)
            {
                throw new InvalidOperationException($"replica {Id} already has a request outstanding");
            }

            _pending = pending;
            Signal();
        }

        try
        {
            return await pending.Reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                if (_pending == pending)
                {
                    _pending = null;
                }
            }
        }
    }

    /// <summary>
    /// A poll: the outstanding request's JSON (200), nothing within <paramref name="wait"/> (204), or stop (410) once the
    /// mailbox is closed.
    /// </summary>
    internal async Task<(int Status, byte[] Body)> NextAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        Touch();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_stopped)
                {
                    return (410, []);
                }

                if (_pending is { } pending)
                {
                    pending.Delivered = true;
                    return (200, pending.Body);
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Touch();
                return (204, []);
            }
        }
    }

    /// <summary>A reply: accepted (200) when it answers the request this replica was given, else refused (400, 409, 410).</summary>
    internal (int Status, string? Error) Reply(byte[] body)
    {
        Touch();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            return (400, $"the reply is not JSON: {ex.Message}");
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var id))
        {
            document.Dispose();
            return (400, "the reply is not a runner reply: it has no numeric \"id\"");
        }

        lock (_gate)
        {
            if (_stopped)
            {
                document.Dispose();
                return (410, $"replica {Id} was stopped");
            }

            if (_pending is not { Delivered: true } pending || pending.Id != id)
            {
                document.Dispose();
                return (409, $"replica {Id} was not given request {id.ToString(System.Globalization.CultureInfo.InvariantCulture)}: it has {(_pending is { Delivered: true } p ? "request " + p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : "no request")} outstanding");
            }

            _pending = null;
            if (!pending.Reply.TrySetResult(document))
            {
                document.Dispose();
            }
        }

        return (200, null);
    }

    /// <summary>A heartbeat while the replica runs a call.</summary>
    internal void Heartbeat() => Touch();

    /// <summary>Closes the mailbox: the next poll gets 410 (stop), an outstanding request fails, the id is unknown afterwards.</summary>
    public void Dispose()
    {
        Pending? pending;
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            pending = _pending;
            _pending = null;
            Signal();
        }

        pending?.Reply.TrySetException(new ObjectDisposedException(nameof(ReplicaMailbox), $"replica {Id} was retired before it replied"));
        _closed(this);
    }

    private void Touch()
    {
        Interlocked.Exchange(ref _lastContact, _time.GetTimestamp());
        _firstContact.TrySetResult();
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private sealed class Pending(long id, byte[] body)
    {
        public long Id { get; } = id;

        public byte[] Body { get; } = body;

        public bool Delivered { get; set; }

        public TaskCompletionSource<JsonDocument> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
