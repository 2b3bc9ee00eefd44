using System.Text.Json;
using DotnetTasks;
using FlyteSharp;
using FlyteSharp.Execution;

// C# tasks in their own containers. Pass "--mode container" to run every action in its environment's image (the C#
// ones in the .NET image with Newtonsoft.Json, the Python one in the Debian + Python image); without it everything
// runs here (C# in-process, Python with the local interpreter). scripts/example-dotnet.sh runs it end to end.
var mode = args.Length == 2 && args[0] == "--mode" ? Enum.Parse<ExecutionMode>(args[1], ignoreCase: true) : ExecutionMode.Local;
Flyte.InitFromConfig(rootDir: Path.Combine(Envs.ExampleRoot, "python"));

var run = await Flyte.Run(OrderTasks.OrderPipeline, 4, new RunOptions { Mode = mode });
Console.WriteLine($"run: {run.Url}");
Console.WriteLine($"output: {JsonSerializer.Serialize(await run.GetOutputAsync())}");
await run.WaitAsync();
foreach (var action in await run.GetActionsAsync())
{
    Console.WriteLine($"action {action.Task} [{action.Environment}]: {action.Host}");
}
