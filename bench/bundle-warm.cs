#:project ../src/FlyteSharp/FlyteSharp.csproj
// Warm rebuild inside a long-lived process (what Flyte.Run pays on every run after the first):
// one call to load and JIT, then the median of five timed calls. Usage: dotnet run -c Release bench/bundle-warm.cs <root_dir> <cache_dir>
using System.Diagnostics;
using FlyteSharp.Bundles;

var options = new BundleOptions { CacheDirectory = args[1] };
await CodeBundler.CreateAsync(args[0], options);
var times = new List<double>();
for (var i = 0; i < 5; i++)
{
    var clock = Stopwatch.StartNew();
    await CodeBundler.CreateAsync(args[0], options);
    times.Add(clock.Elapsed.TotalSeconds);
}

times.Sort();
Console.WriteLine($"{times[2]:F3}");
