using System.Text.Json;
using FlyteSharp.Runner;
using FlyteSharp.Worker;

namespace FlyteSharp.Tests.Worker;

/// <summary>
/// The worker's serve loop against hostile and careless input: every bad line gets a reply that says what was wrong and
/// the loop stays in step for the next request (real C# task calls on a replica run in the integration tests).
/// </summary>
public class WorkerServeTests
{
    private static async Task<(int Code, JsonElement[] Replies, string Stderr)> ServeAsync(TempTree tree, string input, int maxLineChars = WorkerServe.DefaultMaxLineChars, params string[] extra)
    {
        var protocol = new StringWriter();
        var stderr = new StringWriter();
        var arguments = WorkerArguments.Parse(["--serve", "--app-dir", tree.PathOf("app"), "--packages-dir", tree.PathOf("packages"), .. extra]);
        var code = await WorkerServe.RunAsync(arguments, new StringReader(input), protocol, stderr, TestContext.Current.CancellationToken, maxLineChars);
        var replies = protocol.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        return (code, replies, stderr.ToString());
    }

    private static string ErrorType(JsonElement reply) => reply.GetProperty("error").GetProperty("type").GetString()!;

    private static string ErrorMessage(JsonElement reply) => reply.GetProperty("error").GetProperty("message").GetString()!;

    private const string Ping = """{"id": 9, "op": "describe", "tasks": []}""";

    [Fact]
    public async Task RunAsync_GarbageLine_AnswersAProtocolErrorAndServesTheNextRequest()
    {
        using var tree = new TempTree();
        tree.Dir("app");

        var (code, replies, _) = await ServeAsync(tree, "%%% not json {\n" + Ping + "\n");

        Assert.Equal(0, code);
        Assert.Equal(2, replies.Length);
        Assert.Equal(JsonValueKind.Null, replies[0].GetProperty("id").ValueKind);
        Assert.False(replies[0].GetProperty("ok").GetBoolean());
        Assert.Equal(WorkerServe.ProtocolError, ErrorType(replies[0]));
        Assert.StartsWith("request is not JSON (byte 1)", ErrorMessage(replies[0]), StringComparison.Ordinal);
        Assert.Equal(9, replies[1].GetProperty("id").GetInt32());
        Assert.True(replies[1].GetProperty("ok").GetBoolean());
    }

    [Theory]
    [InlineData("[1, 2]", "request is a JSON array, not an object")]
    [InlineData("""{"id": 1, "op": "call", "assembly": "App.dll"}""", "the request has no \"task\" string")]
    [InlineData("""{"id": 1, "op": "call", "task": "t", "assembly": "App.dll", "inputs": [1]}""", "\"inputs\" must be a JSON object keyed by parameter name")]
    [InlineData("""{"id": 1, "op": "call", "task": 7, "assembly": "App.dll"}""", "\"task\" must be a string, not a JSON number")]
    [InlineData("""{"id": 1, "op": "reload", "bundle": "/b.tar.gz", "digest": "sha256:00", "bundle_dir": "relative/dir"}""", "a reload of a bundle needs \"digest\" and an absolute \"bundle_dir\"")]
    [InlineData("""{"id": 1, "op": "reload"}""", "a reload names either \"bundle\"")]
    public async Task RunAsync_MalformedRequest_NamesWhatIsWrongAndKeepsServing(string request, string expected)
    {
        using var tree = new TempTree();
        tree.Dir("app");

        var (_, replies, _) = await ServeAsync(tree, request + "\n" + Ping + "\n");

        Assert.Equal(2, replies.Length);
        Assert.Equal(WorkerServe.ProtocolError, ErrorType(replies[0]));
        Assert.StartsWith(expected, ErrorMessage(replies[0]), StringComparison.Ordinal);
        Assert.Contains("fix: ", ErrorMessage(replies[0]), StringComparison.Ordinal);
        Assert.True(replies[1].GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task RunAsync_HugeLine_IsRefusedWithoutBeingHeldAndTheProtocolStaysInStep()
    {
        using var tree = new TempTree();
        tree.Dir("app");
        var huge = "{\"id\": 1, \"op\": \"call\", \"inputs\": {\"s\": \"" + new string('x', 200_000) + "\"}}";

        var (_, replies, _) = await ServeAsync(tree, huge + "\n" + Ping + "\n", maxLineChars: 1000);

        Assert.Equal(2, replies.Length);
        Assert.Equal(WorkerServe.ProtocolError, ErrorType(replies[0]));
        Assert.StartsWith("request line longer than 1000 characters", ErrorMessage(replies[0]), StringComparison.Ordinal);
        Assert.Contains("inputs_file", ErrorMessage(replies[0]), StringComparison.Ordinal);
        Assert.Equal(9, replies[1].GetProperty("id").GetInt32()); // the rest of the long line was skipped, not read as requests
    }

    [Fact]
    public async Task RunAsync_UnknownOp_EchoesTheIdAndNamesTheOpsItServes()
    {
        using var tree = new TempTree();
        tree.Dir("app");

        var (_, replies, _) = await ServeAsync(tree, """{"id": 4, "op": "explode"}""" + "\n" + """{"id": 5, "op": {"x": 1}}""" + "\n");

        Assert.Equal(4, replies[0].GetProperty("id").GetInt32());
        Assert.StartsWith("unknown op 'explode'", ErrorMessage(replies[0]), StringComparison.Ordinal);
        Assert.Contains("\"call\", \"describe\" and \"reload\"", ErrorMessage(replies[0]), StringComparison.Ordinal);
        Assert.StartsWith("unknown op {\"x\": 1}", ErrorMessage(replies[1]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ReloadToABundleThatFailsVerification_RefusesAndTheOldCodeKeepsServing()
    {
        using var tree = new TempTree();
        tree.Dir("app");
        var archive = tree.Write("store/bundle.tar.gz", "not the bundle");
        var reload = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["id"] = 1, ["op"] = "reload", ["bundle"] = archive, ["digest"] = "sha256:" + new string('0', 64), ["bundle_dir"] = tree.PathOf("bundles/000"),
        });
        const string call = """{"id": 2, "op": "call", "task": "t", "assembly": "App.dll", "inputs": {}}""";
        Environment.SetEnvironmentVariable("FLYTESHARP_TEST_SERVE_MARK", null);

        var (code, replies, _) = await ServeAsync(tree, reload + "\n" + call + "\n" + Ping + "\n");

        Assert.Equal(0, code);
        Assert.False(replies[0].GetProperty("ok").GetBoolean());
        Assert.Equal("flytesharp.BundleDigestMismatch", ErrorType(replies[0]));
        Assert.False(Directory.Exists(tree.PathOf("bundles/000")));   // nothing unpacked
        Assert.False(replies[1].GetProperty("ok").GetBoolean());
        Assert.StartsWith($"{tree.PathOf("app")}: the code has no assembly 'App.dll'", ErrorMessage(replies[1]), StringComparison.Ordinal); // still the old code's folder
        Assert.Equal(JsonValueKind.Null, replies[2].GetProperty("digest").ValueKind);
    }

    [Fact]
    public async Task RunAsync_StartingBundleRefused_ExitCode3WithTheReasonOnStderr()
    {
        using var tree = new TempTree();
        var archive = tree.Write("store/bundle.tar.gz", "not the bundle");

        var (code, replies, stderr) = await ServeAsync(tree, Ping + "\n", WorkerServe.DefaultMaxLineChars,
            "--bundle", archive, "--digest", "sha256:" + new string('0', 64), "--bundle-dir", tree.PathOf("unpacked"));

        Assert.Equal(RunnerProtocol.BundleRefusedExitCode, code);
        Assert.Empty(replies);
        Assert.Contains("flytesharp.BundleDigestMismatch", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tree.PathOf("unpacked")));
    }

    [Fact]
    public async Task RunAsync_CallFailsToLoad_RepliesWithTheErrorTheSingleCallGives()
    {
        using var tree = new TempTree();
        tree.Write("app/App.dll", "not loaded: the check comes first");
        tree.Write("app/App.deps.json", """
            {
              "runtimeTarget": { "name": ".NETCoreApp,Version=v99.0" },
              "targets": { ".NETCoreApp,Version=v99.0": { "App/1.0.0": { "runtime": { "App.dll": {} } } } },
              "libraries": { "App/1.0.0": { "type": "project" } }
            }
            """);
        tree.Write("io/out.stdout", "");
        tree.Write("io/out.stderr", "");
        var call = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["id"] = 3, ["op"] = "call", ["task"] = "t", ["assembly"] = "App.dll", ["inputs"] = new Dictionary<string, int> { ["n"] = 1 },
            ["stdout_file"] = tree.PathOf("io/out.stdout"), ["stderr_file"] = tree.PathOf("io/out.stderr"),
        });

        var (_, replies, _) = await ServeAsync(tree, call + "\n");

        var reply = Assert.Single(replies);
        Assert.Equal(3, reply.GetProperty("id").GetInt32());
        Assert.Contains("the bundle targets .NET 99.0", ErrorMessage(reply), StringComparison.Ordinal);
        var parsed = RunnerProtocol.ParseCall(reply); // the driver's one parser reads it
        Assert.Equal("FlyteSharp.FlyteSharpException", parsed.Error!.Type);
    }

    [Fact]
    public void Parse_ServeWithSingleCallOptions_IsRefused()
    {
        var error = Assert.Throws<FlyteSharpException>(() => WorkerArguments.Parse(["--serve", "--task", "t"]));

        Assert.Contains("--task is for a single call", error.Reason, StringComparison.Ordinal);
        Assert.True(WorkerArguments.Parse(["--serve", "--controller", "unix:/s"]).Serve);
    }

    [Theory]
    [InlineData("a\nb\n", new[] { "a", "b" })]
    [InlineData("a\r\nb", new[] { "a", "b" })]
    [InlineData("\n\n", new[] { "", "" })]
    [InlineData("12345\n123456\n1\n", new[] { "12345", null, "1" })]
    public async Task BoundedLineReader_Lines_SplitCappedAndCrlfTolerant(string input, string?[] expected)
    {
        var reader = new BoundedLineReader(new StringReader(input), 5);
        var lines = new List<string?>();
        while (await reader.ReadAsync() is { EndOfInput: false } line)
        {
            lines.Add(line.TooLong ? null : line.Text);
        }

        Assert.Equal(expected, lines);
    }
}
