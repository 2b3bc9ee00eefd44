using System.Text.Json;
using FlyteSharp;
using FlyteSharp.Images;
using WorkspaceApp;

// The seed's entry point (workspace_app/main.py) in C#: root_dir is src/, so the code bundle covers
// workspace_app, lib_transforms and lib_models.
var config = Flyte.InitFromConfig(rootDir: Envs.SrcDir);

foreach (var env in new[] { Envs.Etl, Envs.Ml })
{
    var image = env.Image.Resolve(new ImageResolveOptions(config, CopyStyle.All));
    Console.WriteLine($"{env.Name} image: {image.Uri}");
}

List<double> features = [1.5, 3.0, 4.5, 6.0, 7.5];
List<double> labels = [0.0, 1.0, 2.0, 3.0, 4.0];

// Development: fast deploy (code bundle delivers source at runtime)
var etlRun = await Flyte.Run(EtlTasks.EtlPipeline, 10);
Console.WriteLine($"ETL run: {etlRun.Url}");

var mlRun = await Flyte.Run(MlTasks.MlPipeline, features, labels);
Console.WriteLine($"ML run: {mlRun.Url}");

Console.WriteLine($"code bundle: {etlRun.BundleDigest}");
Console.WriteLine($"ETL output: {JsonSerializer.Serialize(await etlRun.GetOutputAsync())}");
Console.WriteLine($"ML output: {await mlRun.GetOutputAsync()}");

// Production: bake source into the image (uncomment and set a version)
// await Flyte.Deploy(Envs.Etl, copyStyle: CopyStyle.None, version: "1.0.0");
// await Flyte.Deploy(Envs.Ml, copyStyle: CopyStyle.None, version: "1.0.0");
