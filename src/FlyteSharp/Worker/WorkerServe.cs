using System.Buffers;
using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FlyteSharp.Runner;

namespace FlyteSharp.Worker;

/// <summary>
/// The worker's serve loop (<c>--serve</c>): what a reusable container of a .NET environment runs. One JSON request per
/// line on stdin, one JSON reply per line on the protocol stream, one call at a time, with the Python runner's serve
/// shapes (the top of <c>flytesharp_runner.py</c>) so the driver drives both with one client:
/// <list type="bullet">
/// <item><c>{"id", "op": "call", "task", "assembly", "inputs" | "inputs_file", "stdout_file", "stderr_file", "output_file",
/// "inline_limit", "run", "action"[, "controller", "controller_token"]}</c> → <c>{"id", "ok": true, "output" | "output_file", "stdout", "stderr", "timings"}</c>
/// or <c>{"id", "ok": false, "error": {"type", "message", "traceback"}}</c>; the task's <c>Console</c> output goes to
/// the named files while it runs (the driver follows them), else into <c>"stdout"</c>/<c>"stderr"</c>.</item>
/// <item><c>{"id", "op": "describe", "tasks": [names], "assembly"}</c> → <c>{"id", "ok": true, "output": [{"task", "ok"}…], "digest"}</c>
/// (with no tasks: a liveness check).</item>
/// <item><c>{"id", "op": "reload", "bundle", "digest", "bundle_dir", "auth_file"}</c> (or <c>"app_dir"</c>) → <c>{"id", "ok": true}</c>:
/// the bundle is fetched, verified and unpacked (once per digest), the old code's load context is unloaded and the next
/// call loads the new assemblies into a fresh one; environment variables and the working directory go back to what the
/// loop started with. A refused bundle answers <c>"ok": false</c> and the old code keeps serving.</item>
/// </list>
/// A line that is not such a request (not JSON, too long, an unknown op, a missing field) is answered with a
/// <c>flytesharp.ProtocolError</c> and the loop goes on. End of input (or the stop signal between calls) ends it.
/// </summary>
internal static class WorkerServe
{
    /// <summary>The longest request line read (inputs above the driver's inline limit come as files).</summary>
    public const int DefaultMaxLineChars = 64 * 1024 * 1024;

    /// <summary>The error type of a request the loop cannot use.</summary>
    public const string ProtocolError = "flytesharp.ProtocolError";

    /// <summary>Serves requests from <paramref name="input"/> until it ends.</summary>
    /// <returns>The exit code: 0 at the end of input, 3 when the starting bundle was refused.</returns>
    public static Task<int> RunAsync(WorkerArguments arguments, TextReader input, TextWriter protocol, TextWriter stderr, CancellationToken stop,
        int maxLineChars = DefaultMaxLineChars) =>
        RunAsync(arguments, new StreamServeChannel(input, protocol, maxLineChars), stderr, stop, maxLineChars);

    /// <summary>Serves requests from <paramref name="channel"/> until it ends.</summary>
    /// <returns>The exit code: the channel's at its end, 3 when the starting bundle was refused.</returns>
    public static async Task<int> RunAsync(WorkerArguments arguments, IServeChannel channel, TextWriter stderr, CancellationToken stop, int maxLineChars = DefaultMaxLineChars)
    {
        using var session = new WorkerSession(arguments, stderr);
        try
        {
            await session.UseCodeAsync(arguments.Bundle, arguments.Digest, arguments.BundleDirectory, arguments.BundleAuthFile, arguments.AppDirectory, stop).ConfigureAwait(false);
        }
        catch (FlyteSharpException ex)
        {
            await stderr.WriteLineAsync($"flytesharp-worker: {DotnetWorker.BundleErrorType(ex)}: {ex.Message}").ConfigureAwait(false);
            return RunnerProtocol.BundleRefusedExitCode;
        }

        var start = new StartState(Environment.GetEnvironmentVariables(), Environment.CurrentDirectory);
        while (true)
        {
            BoundedLineReader.Line line;
            try
            {
                line = await channel.ReadAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return 0;
            }

            if (line.EndOfInput)
            {
                return channel.ExitCode;
            }

            string reply;
            if (line.TooLong)
            {
                reply = Failed(null, ProtocolError, $"request line longer than {maxLineChars.ToString(CultureInfo.InvariantCulture)} characters (ignored)",
                    "send large inputs as \"inputs_file\"");
            }
            else if (string.IsNullOrWhiteSpace(line.Text))
            {
                continue;
            }
            else
            {
                reply = await HandleAsync(line.Text!, session, start, stop).ConfigureAwait(false);
            }

            await channel.WriteAsync(reply, stop).ConfigureAwait(false);
        }
    }

    private static async Task<string> HandleAsync(string line, WorkerSession session, StartState start, CancellationToken stop)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            return Failed(null, ProtocolError, $"request is not JSON (byte {((ex.BytePositionInLine ?? 0) + 1).ToString(CultureInfo.InvariantCulture)})", "send one JSON object per line");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Failed(null, ProtocolError, $"request is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object", "send one JSON object per line");
            }

            var id = root.TryGetProperty("id", out var idElement) ? idElement.Clone() : (JsonElement?)null;
            try
            {
                var op = root.TryGetProperty("op", out var opElement) ? opElement.ValueKind == JsonValueKind.String ? opElement.GetString() : null : "call";
                return op switch
                {
                    "call" => await CallAsync(id, root, session, stop).ConfigureAwait(false),
                    "describe" => Describe(id, root, session),
                    "reload" => await ReloadAsync(id, root, session, start, stop).ConfigureAwait(false),
                    _ => Failed(id, ProtocolError, $"unknown op {(op is not null ? $"'{op}'" : opElement.GetRawText())}",
                        "the worker serves \"call\", \"describe\" and \"reload\""),
                };
            }
            catch (RequestException ex)
            {
                return Failed(id, ProtocolError, ex.Message, ex.Fix);
            }
        }
    }

    private static async Task<string> CallAsync(JsonElement? id, JsonElement request, WorkerSession session, CancellationToken stop)
    {
        var call = new WorkerCall
        {
            Task = RequiredString(request, "task"),
            Assembly = RequiredString(request, "assembly"),
            InputsJson = request.TryGetProperty("inputs", out var inputs) && inputs.ValueKind != JsonValueKind.Null
                ? inputs.ValueKind == JsonValueKind.Object ? inputs.GetRawText() : throw new RequestException("\"inputs\" must be a JSON object keyed by parameter name", "send {\"inputs\": {\"n\": 1}}")
                : null,
            InputsFile = OptionalString(request, "inputs_file"),
            Run = OptionalString(request, "run") ?? "",
            Action = OptionalString(request, "action") ?? "",
            Controller = OptionalString(request, "controller"),
            ControllerToken = OptionalString(request, "controller_token"),
        };
        if (call.InputsJson is null && call.InputsFile is null)
        {
            call = call with { InputsJson = "{}" };
        }

        var outputFile = OptionalString(request, "output_file");
        long? inlineLimit = request.TryGetProperty("inline_limit", out var limit) && limit.ValueKind == JsonValueKind.Number && limit.TryGetInt64(out var l) ? l : null;
        var stdoutFile = OptionalString(request, "stdout_file");
        var stderrFile = OptionalString(request, "stderr_file");

        var (outWriter, outText) = Capture(stdoutFile);
        var (errWriter, errText) = Capture(stderrFile);
        var idleOut = Console.Out;
        var idleError = Console.Error;
        Console.SetOut(outWriter);
        Console.SetError(errWriter);
        var started = Stopwatch.GetTimestamp();
        string? output = null;
        Exception? failure = null;
        try
        {
            output = await session.CallAsync(call, stop).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = WorkerSession.Unwrap(ex);
        }
        finally
        {
            Console.SetOut(idleOut);
            Console.SetError(idleError);
            await outWriter.DisposeAsync().ConfigureAwait(false);
            await errWriter.DisposeAsync().ConfigureAwait(false);
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (failure is not null)
        {
            return Reply(id, false, w =>
            {
                WriteError(w, failure.GetType().FullName ?? failure.GetType().Name, failure.Message, failure.ToString());
                w.WriteString("stdout", outText?.ToString() ?? "");
                w.WriteString("stderr", errText?.ToString() ?? "");
                WriteTimings(w, seconds);
            });
        }

        if (outputFile is not null && inlineLimit is { } inline && Encoding.UTF8.GetByteCount(output!) > inline)
        {
            var temp = outputFile + ".tmp";
            await File.WriteAllTextAsync(temp, output, new UTF8Encoding(false), CancellationToken.None).ConfigureAwait(false);
            File.Move(temp, outputFile, overwrite: true);
            output = null;
        }

        return Reply(id, true, w =>
        {
            if (output is null)
            {
                w.WriteString("output_file", outputFile);
            }
            else
            {
                w.WritePropertyName("output");
                // The serializer writes one line; a raw value with a line break would end the reply early.
                w.WriteRawValue(output.Contains('\n', StringComparison.Ordinal) ? JsonDocument.Parse(output).RootElement.GetRawText().ReplaceLineEndings("") : output);
            }

            w.WriteString("stdout", outText?.ToString() ?? "");
            w.WriteString("stderr", errText?.ToString() ?? "");
            WriteTimings(w, seconds);
        });
    }

    private static string Describe(JsonElement? id, JsonElement request, WorkerSession session)
    {
        var tasks = request.TryGetProperty("tasks", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString()! : throw new RequestException("\"tasks\" must be task names", "send {\"tasks\": [\"double\"]}")).ToArray()
            : [];
        var assembly = tasks.Length == 0 ? null : RequiredString(request, "assembly");
        return Reply(id, true, w =>
        {
            w.WriteStartArray("output");
            foreach (var task in tasks)
            {
                w.WriteStartObject();
                w.WriteString("task", task);
                try
                {
                    session.Find(assembly!, task);
                    w.WriteBoolean("ok", true);
                }
                catch (Exception ex)
                {
                    var error = WorkerSession.Unwrap(ex);
                    w.WriteBoolean("ok", false);
                    WriteError(w, error.GetType().FullName ?? error.GetType().Name, error.Message, "");
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("digest", session.Digest);
        });
    }

    private static async Task<string> ReloadAsync(JsonElement? id, JsonElement request, WorkerSession session, StartState start, CancellationToken stop)
    {
        var bundle = OptionalString(request, "bundle");
        var digest = OptionalString(request, "digest");
        var appDirectory = OptionalString(request, "app_dir");
        if ((bundle is null) == (appDirectory is null))
        {
            throw new RequestException("a reload names either \"bundle\" (with \"digest\" and \"bundle_dir\") or \"app_dir\"", "send one of them");
        }

        var bundleDirectory = bundle is null ? "" : RequiredString(request, "bundle_dir");
        if (bundle is not null && (digest is null || !Path.IsPathRooted(bundleDirectory)))
        {
            throw new RequestException("a reload of a bundle needs \"digest\" and an absolute \"bundle_dir\"", "send {\"bundle\", \"digest\": \"sha256:…\", \"bundle_dir\": \"/tmp/…\"}");
        }

        try
        {
            await session.UseCodeAsync(bundle, digest, bundleDirectory, OptionalString(request, "auth_file"), appDirectory ?? "", stop).ConfigureAwait(false);
        }
        catch (FlyteSharpException ex)
        {
            return Failed(id, DotnetWorker.BundleErrorType(ex), ex.Message, null);
        }

        start.Restore();
        return Reply(id, true, _ => { });
    }

    private static (TextWriter Writer, StringWriter? Text) Capture(string? file)
    {
        if (file is null)
        {
            var text = new StringWriter(CultureInfo.InvariantCulture);
            return (text, text);
        }

        // Appended as written (the driver follows the file while the call runs).
        var stream = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        return (new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true }, null);
    }

    private static string RequiredString(JsonElement request, string name) =>
        OptionalString(request, name) is { Length: > 0 } value ? value : throw new RequestException($"the request has no \"{name}\" string", $"send \"{name}\"");

    private static string? OptionalString(JsonElement request, string name)
    {
        if (!request.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new RequestException($"\"{name}\" must be a string, not a JSON {value.ValueKind.ToString().ToLowerInvariant()}", $"send \"{name}\" as a string");
    }

    private static string Failed(JsonElement? id, string type, string message, string? fix) =>
        Reply(id, false, w => WriteError(w, type, fix is null ? message : $"{message}\n  fix: {fix}", ""));

    private static void WriteError(Utf8JsonWriter w, string type, string message, string traceback)
    {
        w.WriteStartObject("error");
        w.WriteString("type", type);
        w.WriteString("message", message);
        w.WriteString("traceback", traceback);
        w.WriteEndObject();
    }

    private static void WriteTimings(Utf8JsonWriter w, double taskSeconds)
    {
        w.WriteStartObject("timings");
        w.WriteNumber("task", taskSeconds);
        w.WriteEndObject();
    }

    private static string Reply(JsonElement? id, bool ok, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WritePropertyName("id");
            if (id is { } value)
            {
                value.WriteTo(w);
            }
            else
            {
                w.WriteNullValue();
            }

            w.WriteBoolean("ok", ok);
            body(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A request the loop cannot use: answered as a protocol error.</summary>
    private sealed class RequestException(string message, string fix) : Exception(message)
    {
        public string Fix { get; } = fix;
    }

    /// <summary>
    /// What the loop started with: a new code version starts from it, so one version's environment variables and working
    /// directory never reach the next (as the Python runner's reload does by starting a fresh interpreter).
    /// </summary>
    private sealed class StartState(IDictionary variables, string directory)
    {
        private readonly Dictionary<string, string> _variables = variables.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);

        public void Restore()
        {
            foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(n => !_variables.ContainsKey(n)).ToArray())
            {
                Environment.SetEnvironmentVariable(name, null);
            }

            foreach (var (name, value) in _variables)
            {
                if (Environment.GetEnvironmentVariable(name) != value)
                {
                    Environment.SetEnvironmentVariable(name, value);
                }
            }

            Environment.CurrentDirectory = directory;
        }
    }
}
