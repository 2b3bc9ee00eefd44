using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Images;
using FlyteSharp.Processes;
using FlyteSharp.Runner;
using FlyteSharp.Tasks.Discovery;

namespace FlyteSharp.Benchmarks;

/// <summary>
/// P9: edit-to-result of a one-line C# edit in container mode (build the project, bundle its assemblies, store, start
/// the container, fetch + verify + unpack, load + run, teardown), next to a bare <c>podman run</c> of the same image
/// running the same worker on the same bundle, in one process. Prints every iteration, the median breakdown and the
/// ratio. Run through bench/dotnet-container-latency.sh.
/// </summary>
internal static class DotnetContainerLatency
{
    public static async Task<int> RunAsync(string[] args)
    {
        var registry = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_REGISTRY")
            ?? throw new InvalidOperationException("set FLYTESHARP_BENCH_REGISTRY=host:port (bench/dotnet-container-latency.sh starts one)");
        var baseImage = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_DOTNET_BASE_IMAGE") ?? "localhost/flytesharp-test/debian-dotnet:bookworm";
        var iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
        var root = Directory.CreateTempSubdirectory("flytesharp-bench-dotnet-").FullName;
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
        var config = new FlyteConfig
        {
            Home = Path.Combine(root, "home"),
            Registry = registry,
            ImageName = "flytesharp-bench/dotnet-latency",
            DotnetBaseImage = baseImage,
            InsecureRegistries = [registry],
            Builder = ImageBuilderKind.Podman,
        };
        var runtime = new FlyteRuntime(config);
        var options = new RunOptions { Mode = ExecutionMode.Container };
        var timings = new List<ContainerActionTimings>();
        ContainerDotnetExecutor.ActionTimed += t => { lock (timings) { timings.Add(t); } };
        try
        {
            // Warm-up: builds (or finds) the image and warms the SDK's build server; not measured.
            await WriteTaskAsync(project, 0);
            var (warmTask, _) = await BuildAndLoadAsync(project, root, 0);
            var warm = await runtime.RunWithTextInputsAsync(warmTask, new Dictionary<string, string> { ["x"] = "1" }, options);
            await warm.WaitAsync();
            var uri = warmTask.Environment.Image.Resolve(new ImageResolveOptions(runtime.Config, CopyStyle.All)).Uri;

            var rows = new List<Row>();
            for (var i = 1; i <= iterations; i++)
            {
                await WriteTaskAsync(project, i);
                lock (timings)
                {
                    timings.Clear();
                }

                var clock = Stopwatch.StartNew();
                var (task, entry) = await BuildAndLoadAsync(project, root, i);
                var build = clock.Elapsed;
                // The result is back as soon as it is recorded; the container's removal runs after it (as in P6).
                var run = await runtime.Run((FlyteSharp.Tasks.FlyteTask<int, int>)task, 1, options);
                var result = await run.GetOutputAsync();
                var total = clock.Elapsed;
                await run.WaitAsync();
                if (result != 1 + i)
                {
                    throw new InvalidOperationException($"iteration {i}: expected {1 + i}, got {result} (the edit did not reach the container)");
                }

                // Baseline: the same image running the same worker on the same bundle with a bare podman run (no FlyteSharp around it).
                var bundle = await DotnetBundler.CreateAsync(entry, BundleOptions.For(config), CancellationToken.None);
                var io = Directory.CreateDirectory(Path.Combine(root, "io", i.ToString(CultureInfo.InvariantCulture))).FullName;
                await File.WriteAllTextAsync(Path.Combine(io, "inputs.json"), """{"x":1}""");
                clock.Restart();
                var bare = await CliProcess.RunAsync("podman", ["run", "--rm", "--cpus", "1", "--memory", "256m", "-v", $"{bundle.ArchivePath}:/b.tar.gz:ro", "-v", $"{io}:/io", uri,
                    .. DotnetWorkerCommand.For("/b.tar.gz", bundle.Digest, bundle.EntryAssembly, task.Name, ["--inputs", "/io/inputs.json", "--outputs", "/io/outputs.json"])]);
                var baseline = clock.Elapsed;
                using var reply = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(io, "outputs.json")));
                if (!bare.Succeeded || reply.RootElement.GetProperty("output").GetInt32() != 1 + i)
                {
                    throw new InvalidOperationException($"bare podman run failed: {bare.Combined}");
                }

                ContainerActionTimings execute;
                lock (timings)
                {
                    execute = timings.Single(x => x.Kind == "execute");
                }

                var afterBuild = total - build;
                rows.Add(new Row(total, build, afterBuild, baseline, execute.ImageReady, execute.ContainerStart, execute.BundleUnpack, execute.TaskRun, execute.Teardown,
                    afterBuild - execute.Total));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"iteration {i}: build {Ms(build)} ms, run in container {Ms(afterBuild)} ms, bare podman run {Ms(baseline)} ms, ratio {afterBuild / baseline:0.00}"));
            }

            Console.WriteLine();
            Console.WriteLine("median breakdown of edit-to-result (container mode, one-line C# edit):");
            Print("dotnet build of the edited project (both sides need it)", rows.Select(r => r.Build));
            Print(".NET bundle + store put + run start and record", rows.Select(r => r.Other));
            Print("image check (resolve tag + registry HEAD)", rows.Select(r => r.ImageCheck));
            Print("container start (runtime + dotnet host)", rows.Select(r => r.ContainerStart));
            Print("bundle fetch + verify + unpack in container", rows.Select(r => r.Unpack));
            Print("assembly load + task run", rows.Select(r => r.Task));
            Print("reply to result (exit + removal run after it)", rows.Select(r => r.Teardown));
            Print("TOTAL edit-to-result", rows.Select(r => r.Total));
            Print("  of which after the build", rows.Select(r => r.AfterBuild));
            Print("baseline: bare podman run of the same worker", rows.Select(r => r.Baseline));
            var ratio = Median(rows.Select(r => r.AfterBuild)) / Median(rows.Select(r => r.Baseline));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"P9 ratio (median run after the build / median bare podman run): {ratio:0.00}   (goal <= 1.20)"));
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static Task WriteTaskAsync(string project, int version) => File.WriteAllTextAsync(Path.Combine(project, "Tasks.cs"), $$"""
        using FlyteSharp.Images;
        using FlyteSharp.Tasks;

        public static class Tasks
        {
            public static readonly TaskEnvironment Env = new("bench", Image.FromDotnetBase("10.0"), new Resources(Cpu: "1", Memory: "256Mi"));

            public static readonly FlyteTask<int, int> Add = Env.Task("add", async (int x) => await Task.FromResult(x + {{version}}));
        }
        """);

    /// <summary>Builds the bench project and loads a copy of its output; returns its task named <paramref name="task"/>.</summary>
    internal static async Task<(FlyteSharp.Tasks.TaskDefinition Task, string Entry)> BuildAndLoadAsync(string project, string root, int n, string task = "add")
    {
        var build = await CliProcess.RunAsync("dotnet", ["build", project, "-c", "Release", "--nologo", "-v", "q"]);
        if (!build.Succeeded)
        {
            throw new InvalidOperationException("dotnet build failed: " + build.Combined);
        }

        // Each build loads from its own copy: the previous one stays mapped in its load context.
        var copy = Path.Combine(root, "loads", n.ToString(CultureInfo.InvariantCulture));
        var output = Path.Combine(project, "bin", "Release", "net10.0");
        foreach (var file in Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(output, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var entry = Path.Combine(copy, "BenchApp.dll");
        var assembly = new SharingLoadContext().LoadFromAssemblyPath(entry);
        return (new TaskCatalog(assembly, entry).FindTask(task), entry);
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static void Print(string label, IEnumerable<TimeSpan> values) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label,-56} {Ms(Median(values)),8} ms"));

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>Loads the bench project with FlyteSharp shared, as the CLI does.</summary>
    private sealed class SharingLoadContext() : AssemblyLoadContext("bench-app")
    {
        protected override Assembly? Load(AssemblyName assemblyName) =>
            assemblyName.Name == typeof(FlyteRuntime).Assembly.GetName().Name ? typeof(FlyteRuntime).Assembly : null;
    }

    private sealed record Row(TimeSpan Total, TimeSpan Build, TimeSpan AfterBuild, TimeSpan Baseline, TimeSpan ImageCheck, TimeSpan ContainerStart, TimeSpan Unpack,
        TimeSpan Task, TimeSpan Teardown, TimeSpan Other);
}
