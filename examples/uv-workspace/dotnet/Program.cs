using System.Text.Json;
using FlyteSharp;
using FlyteSharp.Execution;
using UvWorkspace;

// root_dir is the workspace root, as in Flyte's examples: the bundle carries src/shop and both members, and each
// package's import root goes on sys.path at run time. Pass "--mode container" to run the Python tasks in the
// environments' images (built with uv from pyproject.toml + uv.lock) instead of local interpreters.
var mode = args.Length == 2 && args[0] == "--mode" ? Enum.Parse<ExecutionMode>(args[1], ignoreCase: true) : ExecutionMode.Local;
Flyte.InitFromConfig(rootDir: Envs.WorkspaceRoot);

var run = await Flyte.Run(ShopTasks.ReportPipeline, 6, new RunOptions { Mode = mode });
Console.WriteLine($"run: {run.Url}");
Console.WriteLine($"code bundle: {run.BundleDigest}");
Console.WriteLine($"report: {JsonSerializer.Serialize(await run.GetOutputAsync())}");
