using System.Text.Json;
using FlyteSharp.Runner;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// One task call over a runner serve loop (a local interpreter or a reusable container), the same way for both: large
/// values never cross the pipe (inputs above the inline limit, captured output and a large result go through files in a
/// spill directory the worker can reach), and the captured output files are followed while the call runs, so a long
/// task's prints reach the run store as they happen.
/// </summary>
internal static class ServeCall
{
    /// <summary>Calls <paramref name="request"/>'s task through <paramref name="send"/> (one serve request, its response).</summary>
    /// <param name="request">The action.</param>
    /// <param name="hostDirectory">The spill directory as this process sees it.</param>
    /// <param name="workerDirectory">The same directory as the worker sees it (a container's mount point), or null when it is the same path.</param>
    /// <param name="inlineLimit">Results longer than this many bytes come back as a file.</param>
    /// <param name="send">Sends one request and returns its response.</param>
    /// <param name="cancellationToken">Cancels the call (the caller then discards the worker).</param>
    public static Task<TaskReply> RunAsync(PythonTaskRequest request, string hostDirectory, string? workerDirectory, long inlineLimit,
        Func<Dictionary<string, object?>, Task<JsonDocument>> send, CancellationToken cancellationToken) =>
        RunAsync(new Call(request.Task.ToString(), request.ActionId, request.InputsJson, request.InputsFile, request.Log), hostDirectory, workerDirectory, inlineLimit, send, cancellationToken);

    /// <summary>What one call sends, whichever runner serves it (the Python runner or the .NET worker).</summary>
    /// <param name="Task">The task as the runner names it.</param>
    /// <param name="ActionId">The action (names the spill files).</param>
    /// <param name="InputsJson">The inputs object as JSON (unused when <paramref name="InputsFile"/> is set).</param>
    /// <param name="InputsFile">A driver-side file holding inputs above the inline limit, or null.</param>
    /// <param name="Log">Receives each output line: (stream, line).</param>
    public sealed record Call(string Task, string ActionId, string InputsJson, string? InputsFile, Action<string, string> Log);

    /// <summary>Calls <paramref name="request"/>'s task through <paramref name="send"/> (one serve request, its response).</summary>
    public static async Task<TaskReply> RunAsync(Call request, string hostDirectory, string? workerDirectory, long inlineLimit,
        Func<Dictionary<string, object?>, Task<JsonDocument>> send, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(hostDirectory);
        var name = $"{request.ActionId}-{Guid.NewGuid():N}";
        var hostPrefix = Path.Combine(hostDirectory, name);
        var workerPrefix = workerDirectory is null ? hostPrefix : workerDirectory.TrimEnd('/') + "/" + name;
        var inputsFile = request.InputsFile;
        if (inputsFile is not null && workerDirectory is not null)
        {
            // The worker cannot see the driver's files: the inputs go into the shared directory first.
            File.Copy(inputsFile, hostPrefix + ".inputs.json");
            inputsFile = workerPrefix + ".inputs.json";
        }

        var message = RunnerProtocol.CallRequest(request.Task, request.InputsJson, inputsFile, workerPrefix, inlineLimit);

        // The runner writes the call's output to these files line by line; they are followed while the call runs.
        string[] streams = ["stdout", "stderr"];
        foreach (var stream in streams)
        {
            File.WriteAllBytes(hostPrefix + "." + stream, []);
        }

        using var stopFollowing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var call = send(message);
            var follows = streams.Select(stream => FollowFileAsync(hostPrefix + "." + stream, stream, request.Log, call, stopFollowing.Token)).ToArray();
            JsonDocument doc;
            try
            {
                doc = await call.ConfigureAwait(false);
            }
            catch
            {
                // The call failed (cancelled, or the worker died): keep what it printed, but never wait on a cancelled read.
                if (cancellationToken.IsCancellationRequested)
                {
                    await stopFollowing.CancelAsync().ConfigureAwait(false);
                }

                await Task.WhenAll(follows).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
                throw;
            }

            using var _ = doc;
            await Task.WhenAll(follows).ConfigureAwait(false);
            var root = doc.RootElement;
            foreach (var stream in streams)
            {
                if (root.TryGetProperty(stream, out var text) && text.GetString() is { Length: > 0 } s)
                {
                    foreach (var line in s.TrimEnd('\n').Split('\n'))
                    {
                        request.Log(stream, line);
                    }
                }
            }

            var result = RunnerProtocol.ParseCall(root);
            return result.OutputFile is not null && workerDirectory is not null ? result with { OutputFile = hostPrefix + ".output.json" } : result;
        }
        finally
        {
            TryDeleteFile(hostPrefix + ".stdout");
            TryDeleteFile(hostPrefix + ".stderr");
            if (inputsFile != request.InputsFile)
            {
                TryDeleteFile(hostPrefix + ".inputs.json");
            }
        }
    }

    /// <summary>Logs a captured-output file line by line while <paramref name="writerDone"/> runs, then its rest (a 100 MB log is streamed, never read whole).</summary>
    private static async Task FollowFileAsync(string path, string stream, Action<string, string> log, Task writerDone, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path, System.Text.Encoding.UTF8, false,
            new FileStreamOptions { BufferSize = 1 << 16, Share = FileShare.ReadWrite | FileShare.Delete, Options = FileOptions.SequentialScan });
        await BoundedLines.FollowAsync(reader, Runs.RunStoreWriter.MaxLogChunkChars, line => log(stream, line), writerDone, cancellationToken).ConfigureAwait(false);
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The directory goes when the run (or the replica) ends.
        }
    }
}
