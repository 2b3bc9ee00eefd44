using System.Text.Json;
using FlyteSharp.Runner;
using FlyteSharp.Worker;

namespace FlyteSharp.Tests.Worker;

/// <summary>The worker's refusals before it loads any user code (containers run it end to end in the integration tests).</summary>
public class DotnetWorkerTests
{
    private static string Deps(string framework, string packageVersion = "13.0.3") => $$"""
        {
          "runtimeTarget": { "name": ".NETCoreApp,Version=v{{framework}}" },
          "targets": { ".NETCoreApp,Version=v{{framework}}": {
            "App/1.0.0": { "runtime": { "App.dll": {} } },
            "Newtonsoft.Json/{{packageVersion}}": { "runtime": { "lib/net6.0/Newtonsoft.Json.dll": {} } } } },
          "libraries": { "App/1.0.0": { "type": "project" }, "Newtonsoft.Json/{{packageVersion}}": { "type": "package" } }
        }
        """;

    private static async Task<(int Code, JsonElement Reply, string Stderr)> RunAsync(TempTree tree, params string[] extra)
    {
        tree.Write("io/inputs.json", "{}");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] args = ["--app-dir", tree.PathOf("app"), "--packages-dir", tree.PathOf("packages"), "--assembly", "App.dll", "--task", "t",
            "--inputs", tree.PathOf("io/inputs.json"), "--outputs", tree.PathOf("io/outputs.json"), .. extra];
        var code = await DotnetWorker.RunAsync(args, stdout, stderr, TestContext.Current.CancellationToken);
        var reply = File.Exists(tree.PathOf("io/outputs.json")) ? JsonDocument.Parse(File.ReadAllText(tree.PathOf("io/outputs.json"))).RootElement.Clone() : default;
        return (code, reply, stderr.ToString());
    }

    [Fact]
    public async Task RunAsync_BundleTargetsNewerDotnetThanTheImage_RepliesWithBothVersionsAndTheConfigKey()
    {
        using var tree = new TempTree();
        tree.Write("app/App.dll", "not loaded: the check comes first");
        tree.Write("app/App.deps.json", Deps("99.0"));

        var (code, reply, _) = await RunAsync(tree);

        Assert.Equal(1, code);
        Assert.False(reply.GetProperty("ok").GetBoolean());
        var message = reply.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains($"the bundle targets .NET 99.0 (.NETCoreApp,Version=v99.0), but the image has .NET {Environment.Version.Major}.{Environment.Version.Minor}", message, StringComparison.Ordinal);
        Assert.Contains("[images] dotnet_base", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ImagePackageVersionDiffersFromTheBundles_NamesBothVersions()
    {
        using var tree = new TempTree();
        tree.Write("app/App.dll", "x");
        tree.Write("app/App.deps.json", Deps("10.0", "13.0.3"));
        tree.Write("packages/" + DotnetWorkerCommand.PackagesManifestFileName,
            """{ "packages": [{ "name": "Newtonsoft.Json", "version": "13.0.1", "files": ["Newtonsoft.Json.dll"] }] }""");

        var (code, reply, _) = await RunAsync(tree);

        Assert.Equal(1, code);
        var message = reply.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("bundle built against Newtonsoft.Json 13.0.3, image has 13.0.1", message, StringComparison.Ordinal);
        Assert.Contains("rebuild the image", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_BundleDigestMismatch_RefusesBeforeUnpackingWithExitCode3()
    {
        using var tree = new TempTree();
        var archive = tree.Write("store/bundle.tar.gz", "not the bundle");

        var (code, reply, _) = await RunAsync(tree, "--bundle", archive, "--digest", "sha256:" + new string('0', 64), "--bundle-dir", tree.PathOf("unpacked"));

        Assert.Equal(RunnerProtocol.BundleRefusedExitCode, code);
        Assert.Equal("flytesharp.BundleDigestMismatch", reply.GetProperty("error").GetProperty("type").GetString());
        Assert.False(Directory.Exists(tree.PathOf("unpacked")));
    }

    [Fact]
    public async Task RunAsync_NoSuchAssemblyInTheCode_SaysSo()
    {
        using var tree = new TempTree();
        tree.Dir("app");

        var (code, reply, _) = await RunAsync(tree);

        Assert.Equal(1, code);
        Assert.StartsWith($"{tree.PathOf("app")}: the code has no assembly 'App.dll'", reply.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UnusableCommandLine_ExitCode2WithTheReasonOnStderr()
    {
        var stderr = new StringWriter();

        var code = await DotnetWorker.RunAsync(["--assembly", "App.dll", "--task", "t", "--outputs", "o.json"], new StringWriter(), stderr, TestContext.Current.CancellationToken);

        Assert.Equal(DotnetWorkerCommand.UsageExitCode, code);
        Assert.Equal("flytesharp-worker: error: the worker needs --inputs FILE or --inputs-env NAME\n  fix: pass one of them", stderr.ToString().TrimEnd().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Parse_SecretEnvAndControllerArguments_AreKept()
    {
        var parsed = WorkerArguments.Parse(["--assembly", "A.dll", "--task", "t", "--inputs-env", "IN", "--result-stdout", "--secret-env", "TOKEN=/run/s/0",
            "--controller", "unix:/run/flytesharp/controller.sock", "--controller-token-file", "/run/flytesharp/controller.token", "--run", "r", "--action", "a1"]);

        Assert.Equal([("TOKEN", "/run/s/0")], parsed.SecretVariables);
        Assert.True(parsed.ResultOnStdout);
        Assert.Equal("unix:/run/flytesharp/controller.sock", parsed.Controller);
        Assert.Equal("/run/flytesharp/controller.token", parsed.ControllerTokenFile);
        Assert.Equal(("r", "a1"), (parsed.Run, parsed.Action));
    }

    [Theory]
    [InlineData("--nope", "x")]
    [InlineData("--bundle", "b.tar.gz")]
    [InlineData("--secret-env", "NOEQUALS")]
    public void Parse_BadArguments_AreRefused(string name, string value)
    {
        Assert.Throws<FlyteSharpException>(() => WorkerArguments.Parse(["--assembly", "A.dll", "--task", "t", "--inputs", "i", "--outputs", "o", name, value]));
    }
}
