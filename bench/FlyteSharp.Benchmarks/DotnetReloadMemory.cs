using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FlyteSharp.Benchmarks;

/// <summary>
/// Memory of a .NET worker process that serves many code edits, as a developer's Global replica does: the real worker
/// (<c>flytesharp-worker.dll --serve</c>) reloads a new version of a task assembly before each call, every version holding
/// <c>ballast</c> MiB in a static array and returning a record (so serializer metadata of the old types exists). Prints the
/// worker's resident memory after the first 10 versions (the baseline) and after all of them, their ratio, and what
/// keeping every version would have added. Run through bench/dotnet-reload-memory.sh.
/// </summary>
internal static class DotnetReloadMemory
{
    public static async Task<int> RunAsync(string[] args)
    {
        var versions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        var ballast = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
        const int baselineAt = 10;
        var root = Directory.CreateTempSubdirectory("flytesharp-bench-reload-memory-").FullName;
        try
        {
            var references = Directory.EnumerateFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "*.dll")
                .Where(IsManaged).Select(f => (MetadataReference)MetadataReference.CreateFromFile(f))
                .Append(MetadataReference.CreateFromFile(typeof(FlyteSharpException).Assembly.Location)).ToArray();
            var directories = new List<string>();
            for (var version = 1; version <= versions; version++)
            {
                directories.Add(Compile(root, version, ballast, references));
            }

            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { Path.Combine(AppContext.BaseDirectory, "flytesharp-worker", "flytesharp-worker.dll"), "--serve", "--app-dir", directories[0], "--packages-dir", Path.Combine(root, "packages") },
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var worker = Process.Start(start)!;
            var stderr = worker.StandardError.ReadToEndAsync();
            long baseline = 0;
            var started = Stopwatch.GetTimestamp();
            for (var version = 1; version <= versions; version++)
            {
                await SendAsync(worker, new { id = version * 2, op = "reload", app_dir = directories[version - 1] });
                var reply = await SendAsync(worker, new { id = version * 2 + 1, op = "call", task = "grow", assembly = "App.dll", inputs = new { n = version } });
                if (!reply.Contains($"\"version\":{version}", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"version {version} answered {reply}");
                }

                if (version == baselineAt)
                {
                    baseline = ResidentKib(worker.Id);
                }
            }

            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var final = ResidentKib(worker.Id);
            worker.StandardInput.Close();
            await worker.WaitForExitAsync();
            var warnings = (await stderr).Split('\n').Count(l => l.Contains("warning:", StringComparison.Ordinal));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dotnet-reload-memory: {versions} versions of {ballast} MiB each, {seconds:F1} s ({seconds / versions * 1000:F0} ms per reload and call)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  worker RSS after {baselineAt} versions (baseline): {baseline / 1024.0:F0} MiB; after {versions}: {final / 1024.0:F0} MiB; ratio {(double)final / baseline:F2}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  keeping every version would add ~{(versions - baselineAt) * ballast} MiB; worker warnings about old code in memory: {warnings}"));
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Compile(string root, int version, int ballast, MetadataReference[] references)
    {
        var directory = Path.Combine(root, "v" + version.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        var source = $$"""
            using System;
            using System.Threading.Tasks;
            using FlyteSharp.Images;
            using FlyteSharp.Tasks;

            public sealed record Grown(int Version, int N, long Ballast);

            public static class Tasks
            {
                private static readonly byte[] Ballast = Fill();

                public static readonly TaskEnvironment Env = new("reload-memory", Image.FromDotnetBase("10.0"));

                public static readonly FlyteTask<int, Grown> Grow = Env.Task("grow", async (int n) =>
                {
                    await Task.Yield();
                    return new Grown({{version}}, n, Ballast.LongLength);
                });

                private static byte[] Fill()
                {
                    var bytes = new byte[{{ballast}} << 20];
                    Array.Fill(bytes, (byte)1);
                    return bytes;
                }
            }
            """;
        var compilation = CSharpCompilation.Create("App", [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release));
        var result = compilation.Emit(Path.Combine(directory, "App.dll"));
        if (!result.Success)
        {
            throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
        }

        File.WriteAllText(Path.Combine(directory, "App.deps.json"), """
            {
              "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0" },
              "targets": { ".NETCoreApp,Version=v10.0": { "App/1.0.0": { "runtime": { "App.dll": {} } } } },
              "libraries": { "App/1.0.0": { "type": "project" } }
            }
            """);
        return directory;
    }

    private static async Task<string> SendAsync(Process worker, object request)
    {
        await worker.StandardInput.WriteLineAsync(JsonSerializer.Serialize(request));
        await worker.StandardInput.FlushAsync();
        return await worker.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the worker ended");
    }

    private static long ResidentKib(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static bool IsManaged(string file)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(file);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
