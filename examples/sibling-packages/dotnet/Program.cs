using FlyteSharp;
using FlyteSharp.Images;
using SiblingPackages;

// my_lib is installed in the image; root_dir only needs to cover my_app source
var config = Flyte.InitFromConfig(rootDir: Envs.SrcDir);
var image = Envs.MyApp.Image.Resolve(new ImageResolveOptions(config, CopyStyle.All));
Console.WriteLine($"{Envs.MyApp.Name} image: {image.Uri}");

// Development -- run a task directly, code bundle handles source delivery
var run = await Flyte.Run(StatsTasks.StatsPipeline, [1.0, 2.0, 3.0, 4.0, 5.0]);
Console.WriteLine($"Run URL: {run.Url}");
Console.WriteLine($"code bundle: {run.BundleDigest}");
Console.WriteLine($"output: {await run.GetOutputAsync()}");

// Production -- deploy an environment with source baked into the image
// await Flyte.Deploy(Envs.MyApp, copyStyle: CopyStyle.None, version: "1.0.0");
