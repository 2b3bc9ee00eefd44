using FlyteSharp.Runs;

namespace FlyteSharp.Execution;

/// <summary>The execution side of a <see cref="Run"/> handle: the run's controller and the task that ends with it.</summary>
internal sealed class RunConnection(string name, string url, string? bundleDigest, RunStore store, RunController controller, Task<RunResult> completion) : IRunConnection
{
    public string Name => name;

    public string Url => url;

    public string? BundleDigest => bundleDigest;

    public RunStore Store => store;

    public Task<RunResult> Completion => completion;

    public void Cancel() => controller.Cancel();

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await controller.Writer.FlushAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // Finished meanwhile: everything is written.
        }
    }
}
