using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace RunsFixture;

/// <summary>Tasks for the CLI tests. root_dir is src/ (passed with --root-dir).</summary>
public static class Tasks
{
    // Python 3.11: the version of the test base image, for the container-mode tests.
    public static readonly TaskEnvironment Env = new("fixture", Image.FromDebianBase("3.11"));

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

    public static readonly FlyteTask<int, string> Greet = Env.PythonTask<int, string>("fixture.late:greet");

    public static readonly FlyteTask<int, string> Shout = Env.PythonTask<int, string>("fixture.late:shout");

    /// <summary>Naps, then calls a task that reads a data file shipped in the bundle: it needs the run's sandbox after the nap.</summary>
    public static readonly FlyteTask<int, string> NapThenGreet = Env.Task("nap_then_greet", async (int seconds) =>
        await Greet.InvokeAsync((int)await Nap.InvokeAsync(seconds)));

    /// <summary>A reusable environment with a secret: its replica holds the secret's file while it lives.</summary>
    public static readonly TaskEnvironment Warm = new("warm", Image.FromDebianBase("3.11"),
        secrets: [new Secret("fixture_token", AsEnvVar: "FIXTURE_TOKEN")], reuse: new ReusePolicy(Replicas: 1));

    public static readonly FlyteTask<int, double> WarmNap = Warm.PythonTask<int, double>("fixture.slow:warm_nap");
}
