using System.Text.Json;
using FlyteSharp.Runner;

namespace FlyteSharp.Tests.Runner;

public class RunnerProtocolTests
{
    [Fact]
    public void ParseCall_Ok_ReturnsOutputJson()
    {
        using var doc = JsonDocument.Parse("""{"ok": true, "output": [1, 2]}""");

        var result = RunnerProtocol.ParseCall(doc.RootElement);

        Assert.Equal("[1, 2]", result.OutputJson);
        Assert.Null(result.Error);
    }

    [Fact]
    public void ParseCall_PythonError_ReturnsTypeMessageAndTraceback()
    {
        using var doc = JsonDocument.Parse("""{"ok": false, "error": {"type": "ValueError", "message": "bad", "traceback": "tb"}}""");

        var result = RunnerProtocol.ParseCall(doc.RootElement, exitCode: 1, "container");

        Assert.Equal(new TaskReplyError("ValueError", "bad", "tb"), result.Error);
    }

    [Fact]
    public void ParseCall_ContainerReplyNamingAnOutputFile_ThrowsInsteadOfReturningTheHostPath()
    {
        // A container's task can write its own outputs.json: a path there would be read (and deleted) on the driver's host.
        using var doc = JsonDocument.Parse("""{"ok": true, "output_file": "/home/someone/.ssh/id_ed25519"}""");

        var ex = Assert.Throws<FlyteSharpException>(() => RunnerProtocol.ParseCall(doc.RootElement, exitCode: 0, "container"));

        Assert.Contains("the container's reply names an output file", ex.Message);
        Assert.Contains("return the value from the task", ex.Fix);
    }

    [Theory]
    [InlineData("""{"output": 1}""")]
    [InlineData("""{"ok": "yes", "output": 1}""")]
    [InlineData("""[1]""")]
    [InlineData("""{"ok": true}""")]
    [InlineData("""{"ok": false, "error": 3}""")]
    public void ParseCall_ContainerReplyNotARunnerReply_ThrowsAClearError(string reply)
    {
        using var doc = JsonDocument.Parse(reply);

        var ex = Assert.Throws<FlyteSharpException>(() => RunnerProtocol.ParseCall(doc.RootElement, exitCode: 0, "pod p-1"));

        Assert.Contains("the pod p-1's reply", ex.Message);
    }

    [Fact]
    public void ParseReply_NotJson_ThrowsNamingThePositionNotTheText()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => RunnerProtocol.ParseReply("{\"ok\": true,\n token-abc123", "container"));

        Assert.Contains("the container's reply is not JSON (line 2", ex.Message);
        Assert.DoesNotContain("token-abc123", ex.Message);
    }

    [Fact]
    public void ParseCall_BundleRefusedExitCode_ThrowsNamingTheHost()
    {
        using var doc = JsonDocument.Parse("""{"ok": false, "error": {"type": "flytesharp.BundleDigestMismatch", "message": "digest differs"}}""");

        var ex = Assert.Throws<FlyteSharpException>(() => RunnerProtocol.ParseCall(doc.RootElement, RunnerProtocol.BundleRefusedExitCode, "pod p-1"));

        Assert.Contains("the pod p-1 refused the code bundle: digest differs", ex.Message);
        Assert.Contains("corrupted or replaced", ex.Fix);
    }

    [Fact]
    public void ParseDescribe_OkAndMissing_ReadsBoth()
    {
        using var doc = JsonDocument.Parse("""
            [{"task": "a:f", "ok": true, "file": "a.py", "is_async": true, "parameters": [{"name": "n", "annotation": "int", "kind": "POSITIONAL_OR_KEYWORD", "has_default": false}]},
             {"task": "a:g", "ok": false, "error": {"type": "FunctionNotFound", "message": "no g", "defined": ["f"]}}]
            """);

        var infos = RunnerProtocol.ParseDescribe(doc.RootElement);

        Assert.Equal(new PythonParameterInfo("n", "int", "POSITIONAL_OR_KEYWORD", false), Assert.Single(infos[0].Parameters));
        Assert.True(infos[0].IsAsync);
        Assert.Equal(("FunctionNotFound", "no g", "f"), (infos[1].ErrorType, infos[1].ErrorMessage, Assert.Single(infos[1].Defined)));
    }

    [Fact]
    public void CallRequest_InlineInputs_CarriesThemAsJsonWithTheSpillFiles()
    {
        var request = RunnerProtocol.CallRequest("a:f", """{"n": 3}""", null, "/s/a1", 1024);

        Assert.Equal(
            """{"op":"call","task":"a:f","stdout_file":"/s/a1.stdout","stderr_file":"/s/a1.stderr","output_file":"/s/a1.output.json","inline_limit":1024,"inputs":{"n":3}}""",
            JsonSerializer.Serialize(request));
    }

    [Fact]
    public void CallRequest_InputsFile_NamesTheFileInsteadOfInlining()
    {
        var request = RunnerProtocol.CallRequest("a:f", "", "/s/in.json", "/s/a1", 1024);

        Assert.Equal("/s/in.json", request["inputs_file"]);
        Assert.False(request.ContainsKey("inputs"));
    }

    [Fact]
    public void ParseCall_OutputAboveInlineLimit_ReturnsTheOutputFile()
    {
        using var doc = JsonDocument.Parse("""{"ok": true, "output_file": "/s/a1.output.json"}""");

        var result = RunnerProtocol.ParseCall(doc.RootElement);

        Assert.Equal(("/s/a1.output.json", null), (result.OutputFile, result.OutputJson));
    }

    [Fact]
    public void CallSucceeded_WrittenByTheDotnetWorker_ParsesWithTheOneParser()
    {
        var reply = RunnerProtocol.CallSucceeded("""{"mean":1.5}""", new Dictionary<string, double> { ["started"] = 1.0, ["bundle"] = 0.5, ["task"] = 0.25 });

        using var doc = JsonDocument.Parse(reply);
        var result = RunnerProtocol.ParseCall(doc.RootElement);

        Assert.Equal("""{"mean":1.5}""", result.OutputJson);
        Assert.Equal(0.25, doc.RootElement.GetProperty("timings").GetProperty("task").GetDouble());
    }

    [Fact]
    public void CallFailed_WrittenByTheDotnetWorker_CarriesTypeMessageAndStackTrace()
    {
        var reply = RunnerProtocol.CallFailed("System.InvalidOperationException", "no \"good\"", "   at App.Tasks.Run()");

        using var doc = JsonDocument.Parse(reply);
        var result = RunnerProtocol.ParseCall(doc.RootElement, 1, "container");

        Assert.Equal(new TaskReplyError("System.InvalidOperationException", "no \"good\"", "   at App.Tasks.Run()"), result.Error);
    }

    [Fact]
    public void CallFailed_BundleRefusedExitCode_IsThrownAsTheRefusal()
    {
        var reply = RunnerProtocol.CallFailed("flytesharp.BundleDigestMismatch", "digest mismatch", "");
        using var doc = JsonDocument.Parse(reply);

        var error = Assert.Throws<FlyteSharpException>(() => RunnerProtocol.ParseCall(doc.RootElement, RunnerProtocol.BundleRefusedExitCode, "container"));

        Assert.Equal("the container refused the code bundle: digest mismatch", error.Reason);
    }

    [Fact]
    public void ResultLine_IsWhatPodLogsAreSearchedFor()
    {
        var line = RunnerProtocol.ResultLine("""{"ok":true,"output":1}""");

        Assert.Equal("FLYTESHARP-RESULT-BEGIN {\"ok\":true,\"output\":1} FLYTESHARP-RESULT-END", line);
    }
}
