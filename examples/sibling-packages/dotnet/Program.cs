using FlyteSharp;
using FlyteSharp.Configuration;
using FlyteSharp.Images;
using SiblingPackages;

// Prints the environment's image (fast deploy: the code travels in the bundle).
var config = FlyteConfig.Load(workingDirectory: Path.Combine(Envs.MyAppRoot, ".."));
var image = Envs.MyApp.Image.Resolve(new ImageResolveOptions(config, CopyStyle.All));
Console.WriteLine($"{Envs.MyApp.Name}: {image.Uri}");
