using System.Diagnostics;
using System.Globalization;
using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Benchmarks;

/// <summary>
/// Per-call cost of a trivial C# task in container mode on a warm replica of a reusable environment, next to the same
/// task with one container per call (the baseline), measured in one process and one run each: a pipeline in the driver
/// calls the task sequentially; the replica's start (the first call) is not counted. Run through
/// bench/dotnet-reuse-latency.sh.
/// </summary>
internal static class DotnetReuseLatency
{
    public static async Task<int> RunAsync(string[] args)
    {
        var registry = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_REGISTRY")
            ?? throw new InvalidOperationException("set FLYTESHARP_BENCH_REGISTRY=host:port (bench/dotnet-reuse-latency.sh starts one)");
        var baseImage = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_DOTNET_BASE_IMAGE") ?? "localhost/flytesharp-test/debian-dotnet:bookworm";
        var calls = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        var singleCalls = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        var root = Directory.CreateTempSubdirectory("flytesharp-bench-dotnet-reuse-").FullName;
        var project = Path.Combine(root, "app");
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <AssemblyName>BenchApp</AssemblyName>
                <PathMap>$(MSBuildProjectDirectory)=/_/</PathMap>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="FlyteSharp"><HintPath>{Path.Combine(AppContext.BaseDirectory, "FlyteSharp.dll")}</HintPath><Private>false</Private></Reference>
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(project, "Tasks.cs"), """
            using FlyteSharp.Images;
            using FlyteSharp.Tasks;

            public static class Tasks
            {
                public static readonly TaskEnvironment Single = new("bench-single", Image.FromDotnetBase("10.0"), new Resources(Cpu: "1", Memory: "256Mi"));

                public static readonly TaskEnvironment Reusable = new("bench-reuse", Image.FromDotnetBase("10.0"), new Resources(Cpu: "1", Memory: "256Mi"),
                    reuse: new ReusePolicy(Replicas: 1, IdleTtl: Timeout.InfiniteTimeSpan));

                public static readonly FlyteTask<int, int> Add = Single.Task("add", async (int x) => await Task.FromResult(x + 1));

                public static readonly FlyteTask<int, int> AddWarm = Reusable.Task("add_warm", async (int x) => await Task.FromResult(x + 1));
            }
            """);
        var config = new FlyteConfig
        {
            Home = Path.Combine(root, "home"),
            Registry = registry,
            ImageName = "flytesharp-bench/dotnet-reuse",
            DotnetBaseImage = baseImage,
            InsecureRegistries = [registry],
            Builder = ImageBuilderKind.Podman,
        };
        try
        {
            var runtime = new FlyteRuntime(config);
            var (single, _) = await DotnetContainerLatency.BuildAndLoadAsync(project, root, 0, "add");
            var (warm, _) = await DotnetContainerLatency.BuildAndLoadAsync(project, root, 1, "add_warm");
            var singleCost = await PerCallAsync(runtime, (FlyteTask<int, int>)single, singleCalls);
            var reuseCost = await PerCallAsync(runtime, (FlyteTask<int, int>)warm, calls);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"single-shot: {singleCalls} sequential calls, one container each: {Ms(singleCost)} ms per call"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reusable (1 replica, started by a first call not counted): {calls} sequential calls: {Ms(reuseCost)} ms per call"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $".NET per-call cost, reusable: {Ms(reuseCost)} ms   (baseline single-shot {Ms(singleCost)} ms = {singleCost / reuseCost:0}x it)"));
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The mean time of one call of <paramref name="task"/> over <paramref name="calls"/> sequential calls in one run, after one uncounted call.</summary>
    private static async Task<TimeSpan> PerCallAsync(FlyteRuntime runtime, FlyteTask<int, int> task, int calls)
    {
        var driver = new TaskEnvironment("bench-driver", Image.FromDebianBase("3.11"));
        var elapsed = TimeSpan.Zero;
        var loop = driver.Task("loop", async (int n) =>
        {
            var sum = await task.InvokeAsync(0); // image check, bundle upload, replica start: not counted
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < n; i++)
            {
                sum += await task.InvokeAsync(i);
            }

            elapsed = clock.Elapsed;
            return sum;
        });
        var run = await runtime.Run(loop, calls, new RunOptions { Mode = ExecutionMode.Container });
        if (await run.WaitAsync() != FlyteSharp.Runs.RunStatus.Succeeded)
        {
            throw new InvalidOperationException($"the bench run failed: {run.Error}");
        }

        return elapsed / calls;
    }

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);
}
