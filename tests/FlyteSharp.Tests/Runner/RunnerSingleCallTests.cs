using System.Text;
using System.Text.Json;
using FlyteSharp.Processes;
using FlyteSharp.Runner;

namespace FlyteSharp.Tests.Runner;

/// <summary>The runner's single-call mode (what a container runs), on a real local interpreter: inputs from stdin and the reply announcement.</summary>
public sealed class RunnerSingleCallTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flytesharp-single-call-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task SingleCall_InputsFromStdin_ReplyWrittenThenAnnouncedAfterTheTasksOutput()
    {
        var (result, outputs) = await CallAsync("def add(x: int) -> int:\n    print('task output')\n    return x + 1\n", "{\"x\": 41}");

        Assert.Equal(0, result.ExitCode);
        using var reply = JsonDocument.Parse(outputs!);
        Assert.True(reply.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(42, reply.RootElement.GetProperty("output").GetInt32());
        Assert.Equal(["task output", RunnerProtocol.ReplyWritten], result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task SingleCall_TaskRaises_FailureReplyIsAnnouncedToo()
    {
        var (result, outputs) = await CallAsync("def add(x: int) -> int:\n    raise ValueError('bad')\n", "{\"x\": 1}");

        Assert.Equal(1, result.ExitCode);
        using var reply = JsonDocument.Parse(outputs!);
        Assert.False(reply.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(RunnerProtocol.ReplyWritten, result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
    }

    [Fact]
    public async Task SingleCall_StdinEndsWithoutInputs_FailsWithAnErrorReplyAndNoTaskRun()
    {
        var marker = Path.Combine(_root, "ran");
        var (result, outputs) = await CallAsync($"def add(x: int) -> int:\n    open({JsonSerializer.Serialize(marker)}, 'w').close()\n    return x\n", "");

        Assert.Equal(1, result.ExitCode);
        using var reply = JsonDocument.Parse(outputs!);
        Assert.False(reply.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal("json.decoder.JSONDecodeError", reply.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.False(File.Exists(marker));
    }

    private async Task<(CliResult Result, string? Outputs)> CallAsync(string module, string stdin)
    {
        var bundle = Path.Combine(_root, "bundle");
        Directory.CreateDirectory(Path.Combine(bundle, "app"));
        await File.WriteAllTextAsync(Path.Combine(bundle, "app", "__init__.py"), "", Token);
        await File.WriteAllTextAsync(Path.Combine(bundle, "app", "ops.py"), module, Token);
        var runner = Path.Combine(_root, PythonRunnerScript.FileName);
        await File.WriteAllBytesAsync(runner, PythonRunnerScript.Bytes, Token);
        var outputs = Path.Combine(_root, "outputs.json");
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(stdin));
        var result = await CliProcess.RunAsync("python3", [runner, "--bundle-dir", bundle, "--task", "app.ops:add", "--inputs", "-", "--outputs", outputs],
            standardInput: input, cancellationToken: Token);
        return (result, File.Exists(outputs) ? await File.ReadAllTextAsync(outputs, Token) : null);
    }
}
