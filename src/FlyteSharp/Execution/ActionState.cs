using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>
/// An action in a run's tree, plus its hold on one of the run's concurrency slots. An action gives its slot
/// back while it waits for children (so nested fan-out cannot deadlock) and takes one again before it continues.
/// </summary>
internal sealed class ActionState
{
    private readonly SemaphoreSlim _slots;
    private readonly object _gate = new();
    private int _outstandingChildren;
    private bool _holdsSlot;
    private bool _finished;

    public ActionState(string id, ActionState? parent, TaskDefinition task, string inputsHash, int depth, SemaphoreSlim slots)
    {
        Id = id;
        Parent = parent;
        Task = task;
        InputsHash = inputsHash;
        Depth = depth;
        _slots = slots;
    }

    public string Id { get; }

    public ActionState? Parent { get; }

    public TaskDefinition Task { get; }

    public string InputsHash { get; }

    public int Depth { get; }

    public async Task AcquireSlotAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _holdsSlot = true;
        }
    }

    /// <summary>The action's body ended: give the slot back for good (children it did not await cannot take it again).</summary>
    public void ReleaseSlot()
    {
        bool release;
        lock (_gate)
        {
            release = _holdsSlot;
            _holdsSlot = false;
            _finished = true;
        }

        if (release)
        {
            _slots.Release();
        }
    }

    /// <summary>A child call starts: the first outstanding child frees this action's slot.</summary>
    public void ChildStarting()
    {
        bool release;
        lock (_gate)
        {
            _outstandingChildren++;
            release = _outstandingChildren == 1 && _holdsSlot;
            if (release)
            {
                _holdsSlot = false;
            }
        }

        if (release)
        {
            _slots.Release();
        }
    }

    /// <summary>A child call ended: when none are left, take a slot again before the body continues.</summary>
    public async Task ChildFinishedAsync()
    {
        bool acquire;
        lock (_gate)
        {
            _outstandingChildren--;
            acquire = _outstandingChildren == 0 && !_holdsSlot && !_finished;
        }

        if (!acquire)
        {
            return;
        }

        // Not cancellable: the body is about to continue and must own a slot while it does.
        await _slots.WaitAsync().ConfigureAwait(false);
        bool giveBack;
        lock (_gate)
        {
            giveBack = _holdsSlot || _outstandingChildren > 0 || _finished;
            if (!giveBack)
            {
                _holdsSlot = true;
            }
        }

        if (giveBack)
        {
            _slots.Release();
        }
    }
}
