using BenchmarkDotNet.Running;

// Each benchmark is selected by name: dotnet run -c Release --project bench/FlyteSharp.Benchmarks -- <name>
// End-to-end scripts live next to this project in bench/*.sh.
if (args is ["container-latency", ..])
{
    return await FlyteSharp.Benchmarks.ContainerLatency.RunAsync(args);
}

if (args is ["dotnet-container-latency", ..])
{
    return await FlyteSharp.Benchmarks.DotnetContainerLatency.RunAsync(args);
}

if (args is ["dotnet-reuse-latency", ..])
{
    return await FlyteSharp.Benchmarks.DotnetReuseLatency.RunAsync(args);
}

if (args is ["dotnet-reload-memory", ..])
{
    return await FlyteSharp.Benchmarks.DotnetReloadMemory.RunAsync(args);
}

if (args is ["reuse-latency", ..])
{
    return await FlyteSharp.Benchmarks.ReuseLatency.RunAsync(args);
}

if (args is ["deploy-code-layer", ..])
{
    return await FlyteSharp.Benchmarks.DeployCodeLayer.RunAsync(args);
}

if (FlyteSharp.Benchmarks.ImagesTagFloor.TryRun(args) || FlyteSharp.Benchmarks.Runs.RunBenchmarks.TryRun(args))
{
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
