using System.Diagnostics;
using System.Globalization;
using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Deploy;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Benchmarks;

/// <summary>
/// P8: a <c>CopyStyle.None</c> deploy after a one-line Python edit, with the code layer pushed through the registry API
/// (no builder), next to the same deploy through <c>podman build</c>, in the same process. Each side has its own
/// repository (the same tag would otherwise already exist for the second) with its dependency image built once before
/// timing. Prints every iteration, the medians, the ratio and the builder invocations of the daemonless side, and the
/// deploy's breakdown: making the image (the registry assembly, or build + push; from each side's <c>Built</c> progress
/// report) and the rest (the check of the Python tasks inside the deployed image, recording).
/// Run through bench/deploy-code-layer.sh.
/// </summary>
internal static class DeployCodeLayer
{
    public static async Task<int> RunAsync(string[] args)
    {
        var registry = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_REGISTRY")
            ?? throw new InvalidOperationException("set FLYTESHARP_BENCH_REGISTRY=host:port (bench/deploy-code-layer.sh starts one)");
        var baseImage = Environment.GetEnvironmentVariable("FLYTESHARP_BENCH_BASE_IMAGE") ?? "localhost/flytesharp-test/debian-python:bookworm";
        var iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var root = Directory.CreateTempSubdirectory("flytesharp-bench-deploy-").FullName;
        var src = Path.Combine(root, "src");
        Directory.CreateDirectory(Path.Combine(src, "app"));
        await File.WriteAllTextAsync(Path.Combine(src, "app", "__init__.py"), "");
        FlyteConfig Config(string side) => new()
        {
            Home = Path.Combine(root, "home-" + side),
            Registry = registry,
            ImageName = "flytesharp-bench/deploy-" + side,
            PythonBaseImage = baseImage,
            InsecureRegistries = [registry],
            Builder = ImageBuilderKind.Podman,
        };

        var daemonless = Config("registry");
        var built = Config("builder");
        var env = new TaskEnvironment("bench", Image.FromDebianBase("3.11").WithCodeBundle());
        env.PythonTask<int, int>("app.ops:add");
        var daemonlessBuilder = new CountingBuilder(new PodmanBuilder());
        var builderBuilder = new CountingBuilder(new PodmanBuilder());
        try
        {
            // Warm-up, not measured: each side's dependency image (what a fast-deploy run would have built).
            await WriteFunctionAsync(src, 0);
            foreach (var config in new[] { daemonless, built })
            {
                var dependency = env.Image.Resolve(new ImageResolveOptions(config with { RootDir = src }, CopyStyle.All));
                var service = await ImageBuildServices.CreateAsync(config);
                await service.EnsureAsync([ImageBuildTarget.From(dependency, env.Name)]);
            }

            var rows = new List<(TimeSpan Daemonless, TimeSpan Builder, TimeSpan DaemonlessImage, TimeSpan BuilderImage)>();
            DeployCheckTimings? lastCheck = null;
            DeployCheck.Timed += t => lastCheck = t;
            for (var i = 1; i <= iterations; i++)
            {
                await WriteFunctionAsync(src, i);
                var fastImage = new BuiltTime();
                var clock = Stopwatch.StartNew();
                await Deployer.DeployAsync([env], CopyStyle.None, $"r{i}", daemonless with { RootDir = src }, Service(daemonless, daemonlessBuilder), progress: fastImage);
                var fast = clock.Elapsed;
                var fastCheck = lastCheck;
                var slowImage = new BuiltTime();
                clock.Restart();
                await Deployer.DeployAsync([env], CopyStyle.None, $"b{i}", built with { RootDir = src }, Service(built, builderBuilder), progress: slowImage, registryAssembly: false);
                var slow = clock.Elapsed;
                var slowCheck = lastCheck;
                rows.Add((fast, slow, fastImage.Elapsed, slowImage.Elapsed));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"iteration {i}: daemonless deploy {Ms(fast)} ms (image {Ms(fastImage.Elapsed)} ms), podman build deploy {Ms(slow)} ms (image {Ms(slowImage.Elapsed)} ms), ratio {fast / slow:0.000}"));
                Console.WriteLine($"  task check, daemonless: {Describe(fastCheck)}");
                Console.WriteLine($"  task check, podman build: {Describe(slowCheck)}");
            }

            var medianFast = Median(rows.Select(r => r.Daemonless));
            var medianSlow = Median(rows.Select(r => r.Builder));
            var medianFastImage = Median(rows.Select(r => r.DaemonlessImage));
            var medianSlowImage = Median(rows.Select(r => r.BuilderImage));
            Console.WriteLine();
            Console.WriteLine("P8: deploy --copy-style none after a one-line edit (median):");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  daemonless (registry API, code layer only)   {Ms(medianFast),8} ms   (goal <= 2000 ms)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    making the image (registry assembly)       {Ms(medianFastImage),8} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    the rest (in-image task check, record)     {Ms(Median(rows.Select(r => r.Daemonless - r.DaemonlessImage))),8} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  baseline: podman build + push               {Ms(medianSlow),8} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    making the image (podman build + push)     {Ms(medianSlowImage),8} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    the rest (in-image task check, record)     {Ms(Median(rows.Select(r => r.Builder - r.BuilderImage))),8} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  builder invocations: daemonless {daemonlessBuilder.Builds}, baseline {builderBuilder.Builds}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"P8 ratio (daemonless / podman build): {medianFast / medianSlow:0.000}   (goal <= 0.2)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   making the image only: {medianFastImage / medianSlowImage:0.000}"));
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static ImageBuildService Service(FlyteConfig config, IImageBuilder builder) =>
        new(builder, new RegistryTagProbe(config), config, TimeProvider.System);

    private static Task WriteFunctionAsync(string src, int version) =>
        File.WriteAllTextAsync(Path.Combine(src, "app", "ops.py"), $"def add(x: int) -> int:\n    return x + {version}\n");

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Describe(DeployCheckTimings? t) => t is null ? "none" : string.Create(CultureInfo.InvariantCulture,
        $"prepare {Ms(t.Prepare)} ms, check container (unpack + describe) {Ms(t.StagedDescribe)} ms, waited after the image {Ms(t.Waited)} ms, teardown {Ms(t.Teardown)} ms, staged answers used for {t.Staged} env(s), of which from the check cache (no container) {t.Avoided.Count}");

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>How long the deploy took to make its image: the elapsed time of its <c>Built</c> report.</summary>
    private sealed class BuiltTime : IImageBuildProgress
    {
        public TimeSpan Elapsed { get; private set; }

        public void Report(ImageBuildUpdate update)
        {
            if (update.Stage == ImageBuildStage.Built)
            {
                Elapsed = update.Elapsed;
            }
        }
    }

    /// <summary>The real podman builder, counting the builds asked of it.</summary>
    private sealed class CountingBuilder(IImageBuilder inner) : IImageBuilder
    {
        private int _builds;

        public int Builds => _builds;

        public string Name => inner.Name;

        public Task BuildAsync(ImageBuildRequest request, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _builds);
            return inner.BuildAsync(request, cancellationToken);
        }

        public Task<bool> ExistsLocallyAsync(string imageUri, CancellationToken cancellationToken = default) => inner.ExistsLocallyAsync(imageUri, cancellationToken);
    }
}
