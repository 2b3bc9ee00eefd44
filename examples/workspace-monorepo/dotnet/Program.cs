using FlyteSharp;
using FlyteSharp.Configuration;
using FlyteSharp.Images;
using WorkspaceApp;

// Prints each environment's image (fast deploy: the code travels in the bundle).
var config = FlyteConfig.Load(workingDirectory: Envs.WorkspaceRoot);
foreach (var env in new[] { Envs.Etl, Envs.Ml })
{
    var image = env.Image.Resolve(new ImageResolveOptions(config, CopyStyle.All));
    Console.WriteLine($"{env.Name}: {image.Uri}");
}
