using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace FlyteSharp.Processes;

/// <summary>
/// Runs external tools (podman, docker, git, python3) as child processes, for every layer that needs one (image builds,
/// containers, sandboxes, deploy versions). Arguments are passed as a list,
/// never as a shell string, so paths and values with spaces or quotes cannot be misread.
/// </summary>
internal static class CliProcess
{
    /// <summary>True when <paramref name="file"/> resolves to an executable on PATH (or is an existing path).</summary>
    public static bool IsOnPath(string file)
    {
        if (file.Contains('/'))
        {
            return File.Exists(file);
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, file)));
    }

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="arguments"/>, sending each output line to
    /// <paramref name="onLine"/> as it arrives. Cancelling kills the process tree and throws.
    /// </summary>
    /// <param name="file">The program.</param>
    /// <param name="arguments">Its arguments, one list element each.</param>
    /// <param name="onLine">Receives every output line (stdout and stderr interleaved).</param>
    /// <param name="standardInput">Copied to the process's stdin, which is then closed.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <param name="onOutput">Receives (<c>stdout</c>|<c>stderr</c>, line) for every output line.</param>
    /// <param name="cancellationToken">Kills the process.</param>
    /// <exception cref="FlyteSharpException">The program is not installed.</exception>
    public static async Task<CliResult> RunAsync(
        string file,
        IEnumerable<string> arguments,
        Action<string>? onLine = null,
        Stream? standardInput = null,
        IReadOnlyDictionary<string, string>? environment = null,
        Action<string, string>? onOutput = null,
        CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }

        using var process = new Process { StartInfo = start };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var combined = new StringBuilder();
        var gate = new object();
        void Collect(StringBuilder own, string? line, string stream)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                own.AppendLine(line);
                combined.AppendLine(line);
                onLine?.Invoke(line);
                onOutput?.Invoke(stream, line);
            }
        }

        process.OutputDataReceived += (_, e) => Collect(stdout, e.Data, "stdout");
        process.ErrorDataReceived += (_, e) => Collect(stderr, e.Data, "stderr");
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new FlyteSharpException($"'{file}' is not installed or not on PATH", fix: InstallHint(file), inner: ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            // Fed beside the wait: the input may arrive later than the process starts (a container started before its
            // inputs are known), and a process that exits without reading it must not block this call.
            _ = FeedAsync(process.StandardInput, standardInput, cancellationToken);
        }

        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            throw;
        }

        // WaitForExitAsync returns after the output streams are drained (it waits for EOF).
        lock (gate)
        {
            return new CliResult(process.ExitCode, stdout.ToString(), stderr.ToString(), combined.ToString());
        }
    }

    private static async Task FeedAsync(StreamWriter stdin, Stream input, CancellationToken cancellationToken)
    {
        try
        {
            await input.CopyToAsync(stdin.BaseStream, cancellationToken).ConfigureAwait(false);
            stdin.Close();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The process ended (or was cancelled) before it took its input: its exit says what happened.
        }
    }

    /// <summary>Last <paramref name="count"/> non-empty lines of <paramref name="text"/>.</summary>
    public static string Tail(string text, int count = 20) =>
        string.Join('\n', text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).TakeLast(count));

    private static string InstallHint(string file) => Path.GetFileName(file) switch
    {
        "podman" => "install podman (Debian/Ubuntu: apt-get install podman), or set images.builder = \"docker\"",
        "docker" => "install Docker with the buildx plugin and start its daemon, or set images.builder = \"podman\"",
        var other => $"install {other} or put it on PATH",
    };
}
