using FlyteSharp.Runs;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>The execution side of a <see cref="Run"/> handle: the run's controller and the task that ends with it.</summary>
internal sealed class RunConnection : IRunConnection
{
    private readonly RunController _controller;
    private readonly Task<RunEnd> _end;
    private readonly TaskDefinition _task;
    private readonly Lazy<Task<object?>> _output;

    public RunConnection(string name, string url, string? bundleDigest, RunStore store, RunController controller, Task<RunEnd> end, TaskDefinition task)
    {
        Name = name;
        Url = url;
        BundleDigest = bundleDigest;
        Store = store;
        _controller = controller;
        _end = end;
        _task = task;
        Completion = ResultOf(end);
        Recorded = ResultOf(controller.Recorded.Task);
        _output = new Lazy<Task<object?>>(ReadOutputOnceAsync);
    }

    public string Name { get; }

    public string Url { get; }

    public string? BundleDigest { get; }

    public RunStore Store { get; }

    public Task<RunResult> Completion { get; }

    public Task<RunResult> Recorded { get; }

    public Task<object?> ReadOutputAsync() => _output.Value;

    public void Cancel() => _controller.Cancel();

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _controller.Writer.FlushAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // Finished meanwhile: everything is written.
        }
    }

    private static async Task<RunResult> ResultOf(Task<RunEnd> end)
    {
        var e = await end.ConfigureAwait(false);
        return new RunResult(e.Status, e.Error);
    }

    // A large root output stays a blob until asked for; then it is streamed from the store once.
    private async Task<object?> ReadOutputOnceAsync()
    {
        var outcome = (await Task.WhenAny(_controller.Recorded.Task, _end).Unwrap().ConfigureAwait(false)).Outcome!;
        if (outcome.HasValue)
        {
            return outcome.Value;
        }

        if (outcome.Output.Json is not null)
        {
            // Inline JSON is the recorded outcome itself: nothing of the run's clean-up (containers exiting, removals) to wait for.
            return await RunOutputs.ReadValueAsync(_task, outcome.Output, _controller.Settings.Config, CancellationToken.None).ConfigureAwait(false);
        }

        // A blob is read once the run has ended, so it never races the run's own clean-up.
        outcome = (await _end.ConfigureAwait(false)).Outcome!;
        return await RunOutputs.ReadValueAsync(_task, outcome.Output, _controller.Settings.Config, CancellationToken.None).ConfigureAwait(false);
    }
}
