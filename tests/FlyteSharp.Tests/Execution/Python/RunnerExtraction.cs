using System.Text.Json;
using FlyteSharp.Execution.Python;
using FlyteSharp.Runner;
using FlyteSharp.Processes;

namespace FlyteSharp.Tests.Execution.Python;

/// <summary>
/// Runs the real Python runner (the embedded <c>flytesharp_runner.py</c>, under the real python3) on an archive: its
/// <c>fetch_bundle</c>, the code every container and pod runs first, with the caps set as given. Any exception other
/// than the runner's own <c>BundleError</c> (a crash) fails the test with the traceback.
/// </summary>
internal static class RunnerExtraction
{
    private const string FetchDriver = """
        import json, sys
        sys.path.insert(0, sys.argv[1])
        import flytesharp_runner as runner
        archive, digest, dest, max_entries, max_bytes = sys.argv[2:7]
        runner._MAX_ENTRIES, runner._MAX_BYTES = int(max_entries), int(max_bytes)
        try:
            runner.fetch_bundle(archive, digest, dest)
        except runner.BundleError as exc:
            print(json.dumps({"refused": True, "message": str(exc)}))
        else:
            print(json.dumps({"refused": False, "message": ""}))
        """;

    /// <summary>Runs <c>fetch_bundle(archive, digest, destination)</c>.</summary>
    public static Task<RunnerExtractionResult> FetchBundleAsync(string archive, string digest, string destination, long maxEntries, long maxBytes, CancellationToken cancellationToken) =>
        RunAsync(FetchDriver, [archive, digest, destination, maxEntries.ToString(System.Globalization.CultureInfo.InvariantCulture), maxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken);

    /// <summary>
    /// Runs <paramref name="driver"/> (Python; <c>sys.argv[1]</c> is the directory holding the runner, the rest are
    /// <paramref name="arguments"/>), which prints one JSON object <c>{"refused", "message"}</c>.
    /// </summary>
    public static async Task<RunnerExtractionResult> RunAsync(string driver, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var dir = Directory.CreateTempSubdirectory("flytesharp-runner-").FullName;
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(dir, PythonRunnerScript.FileName), PythonRunnerScript.Bytes, cancellationToken);
            var script = Path.Combine(dir, "driver.py");
            await File.WriteAllTextAsync(script, driver.ReplaceLineEndings("\n"), cancellationToken);
            var result = await CliProcess.RunAsync("python3", [script, dir, .. arguments], cancellationToken: cancellationToken);
            Assert.True(result.ExitCode == 0, $"the runner crashed instead of refusing with BundleError (exit {result.ExitCode}):\n{result.Combined}");
            using var json = JsonDocument.Parse(result.StandardOutput);
            return new RunnerExtractionResult(json.RootElement.GetProperty("refused").GetBoolean(), json.RootElement.GetProperty("message").GetString()!);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
