using System.Text.Json;
using FlyteSharp.Bundles;
using FlyteSharp.Execution.Python;
using FlyteSharp.Runner;

namespace FlyteSharp.Tests.Runner;

/// <summary>The serve loop's <c>reload</c> request (how a reusable container takes a code edit), on a real local interpreter.</summary>
public class RunnerReloadTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flytesharp-reload-" + Guid.NewGuid().ToString("N")[..10]);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Reload_NewBundle_NewInterpreterServesTheNewCodeInTheSameProcess()
    {
        var (worker, first) = await StartAsync("v1");
        await using var _ = worker;
        var pid = worker.ProcessId;
        Assert.Equal("\"v1:1\"", await CallAsync(worker));
        Assert.Equal("\"v1:2\"", await CallAsync(worker));
        var second = await BundleAsync("v2");

        using var reloaded = await worker.SendAsync(Reload(second, Path.Combine(_root, "bundles", "b")), null, Token);
        Assert.True(reloaded.RootElement.GetProperty("ok").GetBoolean(), reloaded.RootElement.ToString());

        Assert.Equal("\"v2:1\"", await CallAsync(worker)); // new code, module state from scratch
        Assert.Equal(pid, worker.ProcessId);
        Assert.False(worker.HasExited);
        Assert.True(File.Exists(Path.Combine(_root, "bundles", "b", "app", "ver.py")));
        Assert.NotEqual(first.Digest, second.Digest);
    }

    [Fact]
    public async Task Reload_OldCodeChangedEnvironmentAndDirectory_NewCodeStartsFromTheReplicasOwn()
    {
        var (worker, _) = await StartAsync("v1");
        await using var w = worker;
        var before = await CallAsync(worker, "app.ver:seen");
        Assert.StartsWith("\"unset|", before);
        Assert.Equal("\"tainted\"", await CallAsync(worker, "app.ver:taint"));
        Assert.Equal("\"v1|/\"", await CallAsync(worker, "app.ver:seen")); // shared between one code's actions, as documented
        var second = await BundleAsync("v2");

        using var reloaded = await worker.SendAsync(Reload(second, Path.Combine(_root, "bundles", "b")), null, Token);
        Assert.True(reloaded.RootElement.GetProperty("ok").GetBoolean(), reloaded.RootElement.ToString());

        // Another code version (in a Global replica: possibly another run) sees none of the old code's variables or cwd.
        Assert.Equal(before, await CallAsync(worker, "app.ver:seen"));
    }

    [Fact]
    public async Task Reload_DigestMismatch_RefusedAndTheOldCodeKeepsServing()
    {
        var (worker, _) = await StartAsync("v1");
        await using var w = worker;
        var second = await BundleAsync("v2");
        var request = Reload(second, Path.Combine(_root, "bundles", "bad"));
        request["digest"] = "sha256:" + new string('0', 64);

        using var refused = await worker.SendAsync(request, null, Token);

        Assert.False(refused.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal("flytesharp.BundleDigestMismatch", refused.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.False(Directory.Exists(Path.Combine(_root, "bundles", "bad")));
        Assert.Equal("\"v1:1\"", await CallAsync(worker));
    }

    private async Task<(PythonWorker Worker, CodeBundle Bundle)> StartAsync(string version)
    {
        var bundle = await BundleAsync(version);
        var dir = Path.Combine(_root, "bundles", "a");
        await BundleExtractor.ExtractAsync(bundle.ArchivePath, bundle.Digest, dir, cancellationToken: Token);
        var runner = Path.Combine(_root, PythonRunnerScript.FileName);
        await File.WriteAllBytesAsync(runner, PythonRunnerScript.Bytes, Token);
        return (PythonWorker.Start("python3", runner, dir, _root), bundle);
    }

    private async Task<CodeBundle> BundleAsync(string version)
    {
        var src = Path.Combine(_root, "src-" + version);
        Directory.CreateDirectory(Path.Combine(src, "app"));
        await File.WriteAllTextAsync(Path.Combine(src, "app", "__init__.py"), "", Token);
        await File.WriteAllTextAsync(Path.Combine(src, "app", "ver.py"),
            $"import os\ncalls = 0\ndef ver() -> str:\n    global calls\n    calls += 1\n    return f\"{version}:{{calls}}\"\n" +
            $"def taint() -> str:\n    os.environ[\"FLYTESHARP_TEST_TAINT\"] = \"{version}\"\n    os.chdir(\"/\")\n    return \"tainted\"\n" +
            "def seen() -> str:\n    return os.environ.get(\"FLYTESHARP_TEST_TAINT\", \"unset\") + \"|\" + os.getcwd()\n", Token);
        return await CodeBundler.CreateAsync(src, new BundleOptions { CacheDirectory = Path.Combine(_root, "cache") }, Token);
    }

    private static Dictionary<string, object?> Reload(CodeBundle bundle, string directory) => new()
    {
        ["op"] = "reload",
        ["bundle"] = bundle.ArchivePath,
        ["digest"] = bundle.Digest,
        ["bundle_dir"] = directory,
        ["paths"] = Array.Empty<string>(),
    };

    private static async Task<string> CallAsync(PythonWorker worker, string task = "app.ver:ver")
    {
        using var doc = await worker.SendAsync(new Dictionary<string, object?> { ["op"] = "call", ["task"] = task, ["inputs"] = new Dictionary<string, object>() }, null, Token);
        var result = RunnerProtocol.ParseCall(doc.RootElement);
        Assert.True(result.Error is null, result.Error?.ToString());
        return result.OutputJson!;
    }
}
