using FlyteSharp.Tasks;

namespace WorkspaceApp;

/// <summary>
/// ETL tasks (seed: workspace_app/tasks/etl_tasks.py). The leaf tasks are the plain Python functions in the
/// uv project; the pipeline is a C# task that awaits them, so each call becomes a child action of the run.
/// </summary>
public static class EtlTasks
{
    /// <summary>Simulate loading raw data (Python).</summary>
    public static readonly FlyteTask<int, List<double>> LoadData =
        Envs.Etl.PythonTask<int, List<double>>("workspace_app.tasks.etl_tasks:load_data");

    /// <summary>Normalize raw data with lib_transforms.ops.normalize (Python).</summary>
    public static readonly FlyteTask<List<double>, List<double>> TransformData =
        Envs.Etl.PythonTask<List<double>, List<double>>("workspace_app.tasks.etl_tasks:transform_data");

    /// <summary>Load and normalize data end-to-end.</summary>
    public static readonly FlyteTask<int, List<double>> EtlPipeline = Envs.Etl.Task("etl_pipeline", async (int n) =>
    {
        var raw = await LoadData.InvokeAsync(n);
        return await TransformData.InvokeAsync(raw);
    });
}

/// <summary>ML tasks (seed: workspace_app/tasks/ml_tasks.py), using lib_models.baseline.</summary>
public static class MlTasks
{
    /// <summary>Train a simple model (Python).</summary>
    public static readonly FlyteTask<List<double>, List<double>, Dictionary<string, object>> Train =
        Envs.Ml.PythonTask<List<double>, List<double>, Dictionary<string, object>>("workspace_app.tasks.ml_tasks:train");

    /// <summary>Evaluate the model on a set of features (Python).</summary>
    public static readonly FlyteTask<Dictionary<string, object>, List<double>, double> Evaluate =
        Envs.Ml.PythonTask<Dictionary<string, object>, List<double>, double>("workspace_app.tasks.ml_tasks:evaluate");

    /// <summary>Train and evaluate a model end-to-end.</summary>
    public static readonly FlyteTask<List<double>, List<double>, double> MlPipeline = Envs.Ml.Task("ml_pipeline", async (List<double> features, List<double> labels) =>
    {
        var model = await Train.InvokeAsync(features, labels);
        return await Evaluate.InvokeAsync(model, features);
    });
}
