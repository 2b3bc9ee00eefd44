using System.Diagnostics;
using System.Text;
using FlyteSharp.Runner;
using FlyteSharp.Tasks.Discovery;

namespace FlyteSharp.Worker;

/// <summary>
/// FlyteSharp's .NET worker: what <c>dotnet /opt/flytesharp/worker/flytesharp-worker.dll</c> runs in a container or
/// pod. It fetches and verifies the .NET code bundle (or uses the image's app folder), loads the user's assemblies in
/// a <see cref="UserCodeLoadContext"/>, finds the task with the CLI's name resolution (<see cref="TaskCatalog"/>), reads
/// the JSON inputs, runs the body under the task's timeout and the container's stop signal, and writes the reply with
/// <see cref="RunnerProtocol"/>: exit code 0 when the task returned, 1 when it (or loading it) failed, 3 when the
/// bundle was refused, 2 for a command line it cannot use — the Python runner's codes. With <c>--serve</c> it runs
/// one call after another for a reusable container instead (<see cref="WorkerServe"/>: JSON lines on stdin/stdout, the
/// Python runner's serve requests and replies), with <c>--serve-pull</c> the same loop for a reusable Pod, its requests
/// pulled from the driver's controller API (<see cref="PullServeChannel"/>); all go through one <see cref="WorkerSession"/>. The
/// <c>flytesharp-worker</c> exe only calls <see cref="RunAsync"/>; a host that builds its own worker image can do the same.
/// </summary>
public static class DotnetWorker
{
    /// <summary>Runs one task call as <paramref name="args"/> describe, or (<c>--serve</c>) the requests read from standard input.</summary>
    /// <param name="args">The command line (see <see cref="WorkerArguments"/>).</param>
    /// <param name="stdout">The process's standard output (task output and, with <c>--result-stdout</c>, the result line; with <c>--serve</c> the replies).</param>
    /// <param name="stderr">The process's standard error (the worker's own diagnostics).</param>
    /// <param name="stop">Cancelled when the container is asked to stop.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var started = Stopwatch.GetTimestamp();
        var startedEpoch = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        WorkerArguments arguments;
        try
        {
            arguments = WorkerArguments.Parse(args);
        }
        catch (FlyteSharpException ex)
        {
            await stderr.WriteLineAsync("flytesharp-worker: error: " + ex.Message).ConfigureAwait(false);
            return DotnetWorkerCommand.UsageExitCode;
        }

        var bundleSeconds = 0.0;
        async Task<int> ReplyAsync(string reply, int code)
        {
            if (arguments.OutputsFile is { } outputs)
            {
                var temp = outputs + ".tmp";
                await File.WriteAllTextAsync(temp, reply, CancellationToken.None).ConfigureAwait(false);
                File.Move(temp, outputs, overwrite: true);
                await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                await stdout.WriteLineAsync(RunnerProtocol.ReplyWritten).ConfigureAwait(false);
            }

            if (arguments.ResultOnStdout)
            {
                await stdout.WriteLineAsync(RunnerProtocol.ResultLine(reply)).ConfigureAwait(false);
            }

            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return code;
        }

        Dictionary<string, double> Timings(double task) => new(StringComparer.Ordinal) { ["started"] = startedEpoch, ["bundle"] = bundleSeconds, ["task"] = task };

        foreach (var (variable, file) in arguments.SecretVariables)
        {
            Environment.SetEnvironmentVariable(variable, File.ReadAllText(file));
        }

        if (arguments.ServePull is not null)
        {
            return await ServePullAsync(arguments, stderr, stop).ConfigureAwait(false);
        }

        if (arguments.Serve)
        {
            return await ServeStandardStreamsAsync(arguments, stdout, stderr, stop).ConfigureAwait(false);
        }

        using var session = new WorkerSession(arguments);
        try
        {
            await session.UseCodeAsync(arguments.Bundle, arguments.Digest, arguments.BundleDirectory, arguments.BundleAuthFile, arguments.AppDirectory, stop).ConfigureAwait(false);
            bundleSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        catch (FlyteSharpException ex)
        {
            return await ReplyAsync(RunnerProtocol.CallFailed(BundleErrorType(ex), ex.Message, "", Timings(0)), RunnerProtocol.BundleRefusedExitCode).ConfigureAwait(false);
        }

        var taskStarted = Stopwatch.GetTimestamp();
        try
        {
            var output = await session.CallAsync(WorkerCall.From(arguments), stop).ConfigureAwait(false);
            return await ReplyAsync(RunnerProtocol.CallSucceeded(output, Timings(Stopwatch.GetElapsedTime(taskStarted).TotalSeconds)), 0).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var error = WorkerSession.Unwrap(ex);
            var type = error.GetType().FullName ?? error.GetType().Name;
            return await ReplyAsync(RunnerProtocol.CallFailed(type, error.Message, error.ToString(), Timings(Stopwatch.GetElapsedTime(taskStarted).TotalSeconds)), 1).ConfigureAwait(false);
        }
    }

    /// <summary>The error type of a refused bundle, as the Python runner names it.</summary>
    internal static string BundleErrorType(FlyteSharpException ex) =>
        ex.Reason.StartsWith("digest mismatch", StringComparison.Ordinal) ? "flytesharp.BundleDigestMismatch" : "flytesharp.BundleError";

    private static async Task<int> ServePullAsync(WorkerArguments arguments, TextWriter stderr, CancellationToken stop)
    {
        PullServeChannel channel;
        try
        {
            channel = PullServeChannel.Open(arguments, stderr);
        }
        catch (FlyteSharpException ex)
        {
            await stderr.WriteLineAsync("flytesharp-worker: error: " + ex.Message).ConfigureAwait(false);
            return DotnetWorkerCommand.UsageExitCode;
        }

        using (channel)
        {
            return await WorkerServe.RunAsync(arguments, channel, stderr, stop).ConfigureAwait(false);
        }
    }

    private static async Task<int> ServeStandardStreamsAsync(WorkerArguments arguments, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        var protocol = stdout;
        if (ReferenceEquals(stdout, Console.Out) && OperatingSystem.IsLinux())
        {
            // The replies get their own descriptor and fd 1 becomes stderr: what a task (or a process it starts, which
            // inherits fd 1) prints can never land in the middle of the protocol. The Python runner does the same.
            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            protocol = StdoutGuard.TakeProtocolStream();
        }

        using var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        return await WorkerServe.RunAsync(arguments, input, protocol, stderr, stop).ConfigureAwait(false);
    }
}
