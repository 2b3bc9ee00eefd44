using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// A warm <c>flytesharp_runner.py --serve</c> process: one request at a time over JSON lines. Reusing it per
/// run and environment saves the interpreter start and module imports on every call.
/// </summary>
internal sealed partial class PythonWorker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderrTail = new();
    private readonly Task _stderrPump;
    private long _nextId;
    private volatile Action<string, string>? _currentLog;

    private readonly bool _stderrIsCallOutput;

    private PythonWorker(Process process, bool stderrIsCallOutput)
    {
        _process = process;
        _stderrIsCallOutput = stderrIsCallOutput;
        _stderrPump = Task.Run(PumpStderrAsync);
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The interpreter's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Starts the runner.</summary>
    /// <param name="interpreter">The Python interpreter.</param>
    /// <param name="runnerPath">flytesharp_runner.py.</param>
    /// <param name="bundleDirectory">The extracted bundle (first on sys.path).</param>
    /// <param name="workingDirectory">The process's working directory.</param>
    /// <param name="pythonPath">Extra PYTHONPATH entries (image source folders), if any.</param>
    /// <param name="importPaths">Extra sys.path entries relative to the bundle (uv workspace packages).</param>
    /// <param name="variables">The environment's variables and delivered secrets, set in the process's environment.</param>
    public static PythonWorker Start(string interpreter, string runnerPath, string bundleDirectory, string workingDirectory, string? pythonPath = null,
        IReadOnlyList<string>? importPaths = null, IReadOnlyDictionary<string, string>? variables = null)
    {
        var start = new ProcessStartInfo(interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in new[] { "-u", runnerPath, "--bundle-dir", bundleDirectory, "--serve" }.Concat(PythonImportPaths.Arguments(importPaths ?? [])))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PYTHONUNBUFFERED"] = "1";
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        start.Environment.Remove("PYTHONPATH");
        if (!string.IsNullOrEmpty(pythonPath))
        {
            start.Environment["PYTHONPATH"] = pythonPath;
        }

        start.Environment.Remove("PYTHONHOME");
        // The driver's secret sources are not the task's business: it gets the secrets its environment names, nothing else.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("FLYTESHARP_SECRET", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in variables ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        try
        {
            // The Python runner forwards what is written to its descriptors during a call as the call's output (in the
            // captured-output files, before the reply); its stderr is its own log, kept for the message when it dies.
            return Launch(start, stderrIsCallOutput: false);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new FlyteSharpException($"could not start Python interpreter '{interpreter}': {ex.Message}",
                fix: "install Python 3 or set [runs] python / FLYTESHARP_PYTHON to a working interpreter", inner: ex);
        }
    }

    /// <summary>
    /// Starts a runner serve loop through another program whose standard streams are the runner's, e.g.
    /// <c>podman run -i … flytesharp_runner.py --serve</c> (a reusable container). What it writes to stderr while a call
    /// runs goes to that call's log.
    /// </summary>
    /// <exception cref="System.ComponentModel.Win32Exception">The program cannot be started.</exception>
    public static PythonWorker StartAttached(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }

        return Launch(start, stderrIsCallOutput: true);
    }

    private static PythonWorker Launch(ProcessStartInfo start, bool stderrIsCallOutput)
    {
        var process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null");
        process.StandardInput.AutoFlush = true;
        return new PythonWorker(process, stderrIsCallOutput);
    }

    /// <summary>The last lines the process wrote to stderr (bounded).</summary>
    public string StderrTail
    {
        get
        {
            lock (_stderrTail)
            {
                return _stderrTail.ToString();
            }
        }
    }

    /// <summary>Sends one request object (without id) and returns the response document.</summary>
    public async Task<JsonDocument> SendAsync(Dictionary<string, object?> request, Action<string, string>? log, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        request["id"] = id;
        _currentLog = log;
        try
        {
            await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(request).AsMemory(), cancellationToken).ConfigureAwait(false);
            var line = await _process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                await _stderrPump.ConfigureAwait(false);
                string tail;
                lock (_stderrTail)
                {
                    tail = _stderrTail.ToString();
                }

                throw new PythonWorkerDiedException(_process.ExitCode, tail);
            }

            var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("id").GetInt64() != id)
            {
                throw new InvalidOperationException($"runner answered request {doc.RootElement.GetProperty("id")} instead of {id}");
            }

            return doc;
        }
        finally
        {
            _currentLog = null;
        }
    }

    public void Kill()
    {
        try
        {
            // The runner leads its own process group (see flytesharp_runner.py): end the group first, which also reaches
            // what a task started and detached from the worker's tree; the pid is still the worker's, so is the group.
            if (!OperatingSystem.IsWindows() && !_process.HasExited)
            {
                _ = KillProcessGroup(-_process.Id, SigKill);
            }

            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close(); // end of input ends the runner
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Kill();
                }
            }
        }
        catch (IOException)
        {
            Kill();
        }

        _process.Dispose();
    }

    private const int SigKill = 9;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillProcessGroup(int pid, int signal);

    private async Task PumpStderrAsync()
    {
        try
        {
            while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (_stderrIsCallOutput && _currentLog is { } log)
                {
                    log("stderr", line);
                }

                lock (_stderrTail)
                {
                    _stderrTail.AppendLine(line);
                    if (_stderrTail.Length > 8192)
                    {
                        _stderrTail.Remove(0, _stderrTail.Length - 8192);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process went away; SendAsync reports it.
        }
    }
}

/// <summary>The Python process ended while a task was running in it (os._exit, a crash, being killed).</summary>
internal sealed class PythonWorkerDiedException(int exitCode, string stderrTail)
    : Exception($"the Python process exited with code {exitCode} while running the task{(stderrTail.Length > 0 ? ":\n" + stderrTail : "")}")
{
    public int ExitCode { get; } = exitCode;
}
