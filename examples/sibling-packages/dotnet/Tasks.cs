using FlyteSharp.Tasks;

namespace SiblingPackages;

/// <summary>Tasks of my_app (seed: my_app/tasks.py and the stats_pipeline in main.py).</summary>
public static class StatsTasks
{
    /// <summary>Compute basic statistics using the my_lib utility library (Python; my_lib comes from the image).</summary>
    public static readonly FlyteTask<List<double>, Dictionary<string, double>> ComputeStats =
        Envs.MyApp.PythonTask<List<double>, Dictionary<string, double>>("my_app.tasks:compute_stats");

    /// <summary>Format the statistics (Python).</summary>
    public static readonly FlyteTask<Dictionary<string, double>, string> Summarize =
        Envs.MyApp.PythonTask<Dictionary<string, double>, string>("my_app.tasks:summarize");

    /// <summary>Compute and summarize statistics end-to-end.</summary>
    public static readonly FlyteTask<List<double>, string> StatsPipeline = Envs.MyApp.Task("stats_pipeline", async (List<double> values) =>
    {
        var stats = await ComputeStats.InvokeAsync(values);
        return await Summarize.InvokeAsync(stats);
    });
}
