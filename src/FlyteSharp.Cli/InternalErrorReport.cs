using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;

namespace FlyteSharp.Cli;

/// <summary>
/// The CLI's last resort: an exception no command turned into a <see cref="FlyteSharpException"/> is a bug (or a
/// broken installation). The user gets one line, <c>error: internal error: &lt;message&gt;</c>, and the path of a log
/// file that holds the full exception; the process exits with <see cref="ExitCode"/>. Never a bare stack trace.
/// </summary>
internal static class InternalErrorReport
{
    /// <summary>Exit code for an internal error (bad input and failed work exit with <see cref="FlyteCli.Failure"/>).</summary>
    public const int ExitCode = 2;

    /// <summary>Writes the log file and the short message; returns <see cref="ExitCode"/>.</summary>
    /// <param name="exception">What escaped.</param>
    /// <param name="error">Where the message goes (stderr).</param>
    /// <param name="environment">Environment variables (default: the process's); <c>FLYTESHARP_HOME</c> places the log.</param>
    /// <param name="time">The clock that names the log file.</param>
    public static int Report(Exception exception, TextWriter error, IReadOnlyDictionary<string, string?>? environment = null, TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var log = TryWriteLog(LogDirectory(environment), exception, now, out var logFailure)
            ?? TryWriteLog(Path.Combine(Path.GetTempPath(), "flytesharp-logs"), exception, now, out _);
        try
        {
            error.WriteLine($"error: internal error: {OneLine(exception.Message)}");
            error.WriteLine(log is not null
                ? $"  details: {log}"
                : $"  details: none written ({logFailure}); the exception was {exception.GetType().FullName}");
            error.WriteLine("  fix: this is a bug in FlyteSharp (or a damaged installation): report it with the details file; rerunning will not help until then");
            error.Flush();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // stderr is gone: the exit code still says what happened.
        }

        return ExitCode;
    }

    /// <summary>Where internal-error logs go: <c>$FLYTESHARP_HOME/logs</c>, else <c>~/.flytesharp/logs</c>.</summary>
    internal static string LogDirectory(IReadOnlyDictionary<string, string?>? environment = null)
    {
        var home = environment is not null
            ? environment.TryGetValue("FLYTESHARP_HOME", out var h) ? h : null
            : Environment.GetEnvironmentVariable("FLYTESHARP_HOME");
        home = string.IsNullOrWhiteSpace(home)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".flytesharp")
            : Path.GetFullPath(home);
        return Path.Combine(home, "logs");
    }

    private static string? TryWriteLog(string directory, Exception exception, DateTimeOffset now, out string? failure)
    {
        failure = null;
        try
        {
            Directory.CreateDirectory(directory);
            var stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
            var path = Path.Combine(directory, $"internal-error-{stamp}-{Environment.ProcessId}.log");
            File.WriteAllText(path, string.Join('\n',
                $"FlyteSharp internal error at {now.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}",
                $"version: {typeof(InternalErrorReport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown"}",
                $"runtime: {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})",
                "",
                exception.ToString(),
                ""));
            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            failure = $"{directory}: {ex.Message}";
            return null;
        }
    }

    private static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
