using System.Text.Json;

namespace FlyteSharp.Runner;

/// <summary>
/// The one reader and writer of the runners' protocol (documented at the top of <c>flytesharp_runner.py</c>), used by
/// every executor: the serve requests, the describe and call arguments, the result markers, and the parser of every
/// reply (describe arrays and call results, whether they come from a serve line, out.json or a pod's log). Two runners
/// speak it: <c>flytesharp_runner.py</c> for Python tasks and FlyteSharp's .NET worker for C# tasks, whose replies are
/// written by <see cref="CallSucceeded"/> and <see cref="CallFailed"/>.
/// </summary>
internal static class RunnerProtocol
{
    /// <summary>Exit code the runner uses when the bundle cannot be fetched, fails its digest, or is unsafe.</summary>
    public const int BundleRefusedExitCode = 3;

    /// <summary>Starts the marked result line of <c>--result-stdout</c>.</summary>
    public const string ResultBegin = "FLYTESHARP-RESULT-BEGIN ";

    /// <summary>Ends the marked result line of <c>--result-stdout</c>.</summary>
    public const string ResultEnd = " FLYTESHARP-RESULT-END";

    /// <summary>
    /// The line a single call prints on its stdout right after its reply file (<c>--outputs</c>) is complete, so the
    /// driver can read the result without waiting for the container's exit. Never task output: the launcher drops it
    /// from the log. A task printing a look-alike gains nothing: the driver then finds no reply file, or the runner's own.
    /// </summary>
    public const string ReplyWritten = "FLYTESHARP-REPLY-WRITTEN";

    /// <summary>
    /// The line a runner serving on a socket (<c>--serve-socket</c>) prints on its stdout once it listens, before any
    /// task code can run; the driver connects then.
    /// </summary>
    public const string ServeListening = "FLYTESHARP-SERVE-LISTENING";

    /// <summary>A serve request describing <paramref name="tasks"/> (<c>module:function</c> references).</summary>
    public static Dictionary<string, object?> DescribeRequest(IEnumerable<string> tasks) =>
        new() { ["op"] = "describe", ["tasks"] = tasks.ToArray() };

    /// <summary>
    /// A serve request calling <paramref name="task"/>. Large values never cross the pipe: the inputs come inline
    /// (<paramref name="inputsJson"/>) or from <paramref name="inputsFile"/>; captured output goes to
    /// <c>{spillPrefix}.stdout</c>/<c>.stderr</c>, and a result above <paramref name="inlineLimit"/> bytes to <c>{spillPrefix}.output.json</c>.
    /// </summary>
    public static Dictionary<string, object?> CallRequest(string task, string inputsJson, string? inputsFile, string spillPrefix, long inlineLimit)
    {
        var request = new Dictionary<string, object?>
        {
            ["op"] = "call",
            ["task"] = task,
            ["stdout_file"] = spillPrefix + ".stdout",
            ["stderr_file"] = spillPrefix + ".stderr",
            ["output_file"] = spillPrefix + ".output.json",
            ["inline_limit"] = inlineLimit,
        };
        if (inputsFile is not null)
        {
            request["inputs_file"] = inputsFile;
        }
        else
        {
            request["inputs"] = JsonDocument.Parse(inputsJson).RootElement.Clone();
        }

        return request;
    }

    /// <summary>The single-call arguments describing <paramref name="tasks"/>.</summary>
    public static IReadOnlyList<string> DescribeArguments(IEnumerable<string> tasks) => ["--describe", .. tasks];

    /// <summary>A call's reply when the task returned: <c>{"ok": true, "output": …}</c> (<paramref name="outputJson"/> is the value's JSON).</summary>
    /// <param name="outputJson">The output value as JSON text.</param>
    /// <param name="timings">Seconds spent per stage (<c>started</c> is epoch seconds), or null.</param>
    public static string CallSucceeded(string outputJson, IReadOnlyDictionary<string, double>? timings = null)
    {
        var reply = new System.Text.Json.Nodes.JsonObject { ["ok"] = true, ["output"] = System.Text.Json.Nodes.JsonNode.Parse(outputJson) };
        AddTimings(reply, timings);
        return reply.ToJsonString();
    }

    /// <summary>A call's reply when the task (or the runner) failed: <c>{"ok": false, "error": {"type", "message", "traceback"}}</c>.</summary>
    /// <param name="type">The exception's type name.</param>
    /// <param name="message">Its message.</param>
    /// <param name="traceback">Its stack trace.</param>
    /// <param name="timings">Seconds spent per stage, or null.</param>
    public static string CallFailed(string type, string message, string traceback, IReadOnlyDictionary<string, double>? timings = null)
    {
        var reply = new System.Text.Json.Nodes.JsonObject
        {
            ["ok"] = false,
            ["error"] = new System.Text.Json.Nodes.JsonObject { ["type"] = type, ["message"] = message, ["traceback"] = traceback },
        };
        AddTimings(reply, timings);
        return reply.ToJsonString();
    }

    /// <summary>The reply as the marked result line <c>--result-stdout</c> prints (the last such line of a log is the result).</summary>
    public static string ResultLine(string replyJson) => ResultBegin + replyJson + ResultEnd;

    private static void AddTimings(System.Text.Json.Nodes.JsonObject reply, IReadOnlyDictionary<string, double>? timings)
    {
        if (timings is null)
        {
            return;
        }

        var node = new System.Text.Json.Nodes.JsonObject();
        foreach (var (stage, seconds) in timings)
        {
            node[stage] = seconds;
        }

        reply["timings"] = node;
    }

    /// <summary>Reads a describe reply: one entry per reference, in order.</summary>
    public static IReadOnlyList<PythonFunctionInfo> ParseDescribe(JsonElement array) => array.EnumerateArray().Select(ParseFunction).ToArray();

    /// <summary>
    /// Reads a call result: <c>{"ok": true, "output": …}</c>, <c>{"ok": true, "output_file": path}</c> for a result
    /// above the inline limit, or <c>{"ok": false, "error": {…}}</c>.
    /// </summary>
    public static TaskReply ParseCall(JsonElement root)
    {
        if (root.GetProperty("ok").GetBoolean())
        {
            return root.TryGetProperty("output_file", out var file)
                ? new TaskReply(null, null) { OutputFile = file.GetString() }
                : new TaskReply(root.GetProperty("output").GetRawText(), null);
        }

        var error = root.GetProperty("error");
        return new TaskReply(null, new TaskReplyError(
            error.GetProperty("type").GetString() ?? "Exception",
            error.GetProperty("message").GetString() ?? "",
            error.TryGetProperty("traceback", out var tb) ? tb.GetString() ?? "" : ""));
    }

    /// <summary>A container's or pod's reply text as JSON (whatever wrote it: the task's code can write the I/O folder).</summary>
    /// <param name="text">The reply.</param>
    /// <param name="host">What ran it (container, pod), for the message.</param>
    /// <exception cref="FlyteSharpException">The reply is not JSON.</exception>
    public static JsonDocument ParseReply(string text, string host)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            // The position only: the text is the task's (it could hold anything, secrets included).
            throw new FlyteSharpException($"the {host}'s reply is not JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})",
                fix: "do not write outputs.json from task code; return the value from the task instead");
        }
    }

    /// <summary>
    /// Reads the result of a runner started in a container or pod: a bundle refusal (exit code 3) is thrown, since no
    /// task ran; anything else is the call's result. <paramref name="host"/> names what ran it (container, pod).
    /// </summary>
    /// <exception cref="FlyteSharpException">The runner refused the code bundle.</exception>
    public static TaskReply ParseCall(JsonElement root, int exitCode, string host)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("ok", out var ok) || ok.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new FlyteSharpException($"the {host}'s reply is not a runner reply (no \"ok\": true/false)",
                fix: "do not write outputs.json from task code; return the value from the task instead");
        }

        if (root.TryGetProperty("output_file", out _))
        {
            // A single call's reply carries its output inline; a path in it would be a file of the driver's host, named
            // by whatever wrote the reply (the task's code can write the I/O folder), and read and deleted as the output.
            throw new FlyteSharpException($"the {host}'s reply names an output file, which a single call's reply never does",
                fix: "do not write outputs.json from task code; return the value from the task instead");
        }

        TaskReply result;
        try
        {
            result = ParseCall(root);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
        {
            throw new FlyteSharpException($"the {host}'s reply is malformed: {ex.Message}",
                fix: "do not write outputs.json from task code; return the value from the task instead", inner: ex);
        }

        if (exitCode == BundleRefusedExitCode && result.Error is { } error)
        {
            throw new FlyteSharpException($"the {host} refused the code bundle: {error.Message}",
                fix: error.Type.EndsWith("BundleDigestMismatch", StringComparison.Ordinal)
                    ? "the bundle in the store is not the one this run recorded (corrupted or replaced); run again to upload it afresh"
                    : $"check that the {host} can reach the store");
        }

        return result;
    }

    private static PythonFunctionInfo ParseFunction(JsonElement e)
    {
        var task = e.GetProperty("task").GetString()!;
        if (e.GetProperty("ok").GetBoolean())
        {
            return new PythonFunctionInfo(task, true, e.GetProperty("file").GetString(), e.GetProperty("is_async").GetBoolean(),
                e.GetProperty("parameters").EnumerateArray().Select(p => new PythonParameterInfo(
                    p.GetProperty("name").GetString()!,
                    p.GetProperty("annotation").ValueKind == JsonValueKind.String ? p.GetProperty("annotation").GetString() : null,
                    p.GetProperty("kind").GetString()!,
                    p.GetProperty("has_default").GetBoolean())).ToArray(),
                null, null, []);
        }

        var error = e.GetProperty("error");
        return new PythonFunctionInfo(task, false, null, false, [], error.GetProperty("type").GetString(), error.GetProperty("message").GetString(),
            error.TryGetProperty("defined", out var d) ? d.EnumerateArray().Select(x => x.GetString()!).ToArray() : []);
    }
}
