using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace RunsFixture;

/// <summary>Tasks for the CLI tests. root_dir is src/ (passed with --root-dir).</summary>
public static class Tasks
{
    public static readonly TaskEnvironment Env = new("fixture", Image.FromDebianBase());

    public static readonly FlyteTask<int, int> Square = Env.Task("square", async (int x) =>
    {
        await Task.Yield();
        return x * x;
    });

    public static readonly FlyteTask<int, int> FanOut = Env.Task("fan_out", async (int n) =>
        (await Task.WhenAll(Enumerable.Range(0, n).Select(i => Square.InvokeAsync(i)))).Sum());

    public static readonly FlyteTask<int, double> Nap = Env.PythonTask<int, double>("fixture.slow:nap");

    /// <summary>Finishes a few fast children, then starts one that sleeps for a long time (the crash test kills the process then).</summary>
    public static readonly FlyteTask<int, double> SlowPipeline = Env.Task("slow_pipeline", async (int seconds) =>
    {
        var quick = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Square.InvokeAsync(i)));
        Console.WriteLine($"quick children done: {quick.Sum()}");
        return await Nap.InvokeAsync(seconds);
    });
}
