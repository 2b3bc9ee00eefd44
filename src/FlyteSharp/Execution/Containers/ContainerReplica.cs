using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Runner;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// One container of a reusable environment: <c>podman run --init … flytesharp_runner.py … --serve --serve-socket
/// /flytesharp/io/serve.sock</c>. The runner listens on a Unix socket in the replica's I/O folder (mounted from
/// <see cref="HostDirectory"/>), and the driver talks to it over that socket (<see cref="ReplicaConnection"/>), so a
/// call crosses one process boundary each way instead of three (podman's attached stdio is relayed by the podman client
/// and conmon). The attached <c>podman run</c> stays: its exit is the container's, and its stdout and stderr are the
/// replica's own log (the runner's own messages, a crash's traceback, output written to the descriptors between calls),
/// whose last lines explain a replica that died. Output a task's subprocess writes to the descriptors is not read here: the
/// runner forwards it on the socket as the call's log, before the call's reply.
/// </summary>
internal sealed class ContainerReplica : IReplica
{
    private readonly Process _process;
    private readonly string? _secretDirectory;
    private readonly string? _authFile;
    private readonly ContainerTeardowns _teardowns;
    private readonly StringBuilder _stderrTail = new();
    private readonly Task _stderrPump;
    private Task _stdoutPump = Task.CompletedTask;
    private ReplicaConnection? _connection;
    private int _broken;

    private ContainerReplica(Process process, string runtime, string name, string hostDirectory, string? secretDirectory, string? authFile, string? digest,
        ContainerTeardowns teardowns)
    {
        _process = process;
        _teardowns = teardowns;
        Runtime = runtime;
        Name = name;
        HostDirectory = hostDirectory;
        _secretDirectory = secretDirectory;
        _authFile = authFile;
        Digest = digest;
        _stderrPump = Task.Run(() => PumpAsync(_process.StandardError));
    }

    /// <summary>The runner's arguments that make it serve on the replica's socket (after <c>--serve</c>).</summary>
    public static IReadOnlyList<string> SocketArguments => ["--serve-socket", ContainerRunSpec.IoMount + "/" + ReplicaConnection.SocketName];

    /// <summary>The container runtime (<c>podman</c> or <c>docker</c>).</summary>
    public string Runtime { get; }

    /// <summary>The container's name.</summary>
    public string Name { get; }

    /// <summary>The directory mounted at <see cref="ContainerRunSpec.IoMount"/>.</summary>
    public string HostDirectory { get; }

    /// <summary>The bundle digest the interpreter serves (null when the code is in the image).</summary>
    public string? Digest { get; private set; }

    /// <summary>The host file mounted as the runner's bundle credentials, or null when the store needs none.</summary>
    public string? BundleAuthFile => _authFile;

    /// <summary>Actions this replica has run.</summary>
    public int Calls { get; private set; }

    /// <summary>True once the container's attached process ended (the container stopped, crashed or was removed).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>
    /// True once a request on it broke (cancelled midway, the connection lost, or the container sent something that is not
    /// the protocol): it must not be handed out again.
    /// </summary>
    public bool IsBroken => Volatile.Read(ref _broken) != 0;

    /// <summary>
    /// Starts the container with <paramref name="spec"/> (its runner arguments end in <c>--serve</c> and
    /// <see cref="SocketArguments"/>), connects to its socket and waits until the runner answers, so a broken image or a
    /// refused bundle fails here, not in the middle of an action.
    /// </summary>
    /// <param name="spec">The container.</param>
    /// <param name="secretDirectory">The secrets' folder on this host, deleted with the replica.</param>
    /// <param name="teardowns">Where its container's removal goes when it retires.</param>
    /// <param name="maxLineBytes">The longest line accepted from the container (an inline output and an error fit in it).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="FlyteSharpException">The container could not start the runner, or refused the bundle.</exception>
    public static async Task<ContainerReplica> StartAsync(ContainerRunSpec spec, string? secretDirectory, ContainerTeardowns teardowns, int maxLineBytes,
        CancellationToken cancellationToken)
    {
        var arguments = spec.Arguments();

        // An init process reaps what tasks leave behind and lets a crashing interpreter end the container.
        var start = new ProcessStartInfo(spec.Runtime)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in (IEnumerable<string>)[arguments[0], "--init", .. arguments.Skip(1)])
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new FlyteSharpException($"could not start '{spec.Runtime}' for a reusable container: {ex.Message}", fix: "install podman (or docker)", inner: ex);
        }

        // Nothing goes to the container's stdin (the protocol is the socket); the driver's own stdin is not its business.
        process.StandardInput.Close();
        var replica = new ContainerReplica(process, spec.Runtime, spec.Name, spec.IoDirectory, secretDirectory, spec.BundleAuthFile, spec.BundleDigest, teardowns);
        try
        {
            await replica.WaitUntilListeningAsync(cancellationToken).ConfigureAwait(false);
            replica._connection = await ReplicaConnection.ConnectAsync(Path.Combine(spec.IoDirectory, ReplicaConnection.SocketName), spec.Name, maxLineBytes, cancellationToken)
                .ConfigureAwait(false);
            replica._stdoutPump = Task.Run(() => replica.PumpAsync(process.StandardOutput), CancellationToken.None);
            using var doc = await replica.SendAsync(w =>
            {
                w.WriteString("op", "describe");
                w.WriteStartArray("tasks");
                w.WriteEndArray();
            }, null, cancellationToken).ConfigureAwait(false);
            return replica;
        }
        catch (PythonWorkerDiedException ex)
        {
            await replica.CloseAsync().ConfigureAwait(false);
            throw StartFailed(spec, ex);
        }
        catch
        {
            await replica.CloseAsync(kill: true).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs one action: its inputs inline in the request (or, when large, in a file in the replica's folder), its
    /// printed output streamed into <paramref name="request"/>'s log as it happens, its result inline in the response or,
    /// above <paramref name="inlineLimit"/> bytes, in a file the runner writes into the replica's folder.
    /// </summary>
    /// <returns>The reply; a large output's <see cref="TaskReply.OutputFile"/> is on this host, in <see cref="HostDirectory"/>.</returns>
    /// <exception cref="PythonWorkerDiedException">The container ended during the call.</exception>
    /// <exception cref="FlyteSharpException">The container answered with something that is not a runner reply.</exception>
    public async Task<TaskReply> CallAsync(PythonTaskRequest request, long inlineLimit, CancellationToken cancellationToken)
    {
        Calls++;
        var name = $"{request.ActionId}-{Guid.NewGuid():N}";
        var hostPrefix = Path.Combine(HostDirectory, name);
        var workerPrefix = ContainerRunSpec.IoMount + "/" + name;
        if (request.InputsFile is not null)
        {
            // The container cannot see the driver's files: large inputs go into its folder first.
            File.Copy(request.InputsFile, hostPrefix + ".inputs.json");
        }

        try
        {
            using var doc = await SendAsync(w => WriteCall(w, request, workerPrefix, inlineLimit), request.Log, cancellationToken).ConfigureAwait(false);
            var root = doc.RootElement;
            TaskReply result;
            try
            {
                if (!root.TryGetProperty("ok", out var ok) || ok.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    throw new InvalidOperationException("no \"ok\": true/false");
                }

                result = RunnerProtocol.ParseCall(root);
            }
            catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
            {
                Interlocked.Exchange(ref _broken, 1);
                throw new FlyteSharpException($"reusable container {Name} answered with a malformed reply: {ex.Message}",
                    fix: "do not write to the runner's inherited descriptors from task code; return the value from the task instead");
            }

            // The path the container named is not trusted: the large output is where this call asked the runner to put it.
            return result.OutputFile is not null ? result with { OutputFile = hostPrefix + ".output.json" } : result;
        }
        finally
        {
            if (request.InputsFile is not null)
            {
                TryDeleteFile(hostPrefix + ".inputs.json");
            }
        }
    }

    /// <summary>
    /// Serves another bundle: the runner fetches and verifies it into its own directory (once per digest in this
    /// container) and restarts its interpreter, which keeps the connection; the container keeps running.
    /// </summary>
    /// <exception cref="FlyteSharpException">The runner refused the bundle (its old code keeps serving; <see cref="IsBroken"/> stays false).</exception>
    public async Task ReloadAsync(ContainerBundleSource bundle, string digest, IReadOnlyList<string> importPaths, CancellationToken cancellationToken)
    {
        using var doc = await SendAsync(w =>
        {
            w.WriteString("op", "reload");
            w.WriteString("bundle", bundle.Source);
            w.WriteString("digest", digest);
            w.WriteString("bundle_dir", BundleDirectoryFor(digest));
            w.WriteStartArray("paths");
            foreach (var path in importPaths)
            {
                w.WriteStringValue(path);
            }

            w.WriteEndArray();
            w.WriteNumber("fetch_attempts", Registry.RegistryRetry.MaxAttempts);
            w.WriteNumber("fetch_backoff", Registry.RegistryRetry.InitialBackoff.TotalSeconds);
            if (_authFile is not null)
            {
                w.WriteString("auth_file", RunnerCommand.BundleAuthFile);
            }
        }, null, cancellationToken).ConfigureAwait(false);
        var root = doc.RootElement;
        if (!root.TryGetProperty("ok", out var ok) || ok.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Interlocked.Exchange(ref _broken, 1);
            throw new FlyteSharpException($"reusable container {Name} answered a reload with a malformed reply (no \"ok\": true/false)",
                fix: "do not write to the runner's inherited descriptors from task code");
        }

        if (!ok.GetBoolean())
        {
            var error = RunnerProtocol.ParseCall(root).Error!;
            throw new FlyteSharpException($"reusable container {Name} refused the code bundle {digest}: {error.Message}",
                fix: "the bundle in the store is not the one this run recorded, or the container cannot reach the store");
        }

        Digest = digest;
    }

    /// <summary>Where the runner unpacks bundle <paramref name="digest"/> inside a replica (one directory per digest).</summary>
    public static string BundleDirectoryFor(string digest) => "/tmp/flytesharp/bundles/" + digest.Replace("sha256:", "", StringComparison.Ordinal);

    /// <inheritdoc/>
    /// <remarks>
    /// Closing the connection ends the runner's serve loop, and with it the container; a killed one ends at once. Then the
    /// host-side files go and the container's removal starts in the teardowns given at start.
    /// </remarks>
    public async Task RetireAsync(bool kill)
    {
        await CloseAsync(kill).ConfigureAwait(false);
        DeleteHostDirectory();
        BundleCredentialFiles.Delete(_authFile);
        _teardowns.Start(Runtime, Name, null, running: kill);
    }

    private async Task CloseAsync(bool kill = false)
    {
        _connection?.Dispose();
        try
        {
            if (kill)
            {
                Kill();
            }

            if (!_process.HasExited)
            {
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
        finally
        {
            _process.Dispose();
            if (_secretDirectory is not null)
            {
                SecretFiles.Delete(_secretDirectory);
            }
        }
    }

    private void DeleteHostDirectory()
    {
        try
        {
            Directory.Delete(HostDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The sandbox (or the sweep) removes what is left.
        }
    }

    /// <summary>One request on the socket, its log messages going to <paramref name="log"/>.</summary>
    private async Task<JsonDocument> SendAsync(Action<Utf8JsonWriter> body, Action<string, string>? log, CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException("the replica is not connected");
        try
        {
            return await connection.SendAsync(body, log, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EndOfStreamException or System.Net.Sockets.SocketException or IOException)
        {
            Interlocked.Exchange(ref _broken, 1);
            throw await DiedAsync().ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Exchange(ref _broken, 1);
            throw;
        }
    }

    private static void WriteCall(Utf8JsonWriter w, PythonTaskRequest request, string workerPrefix, long inlineLimit)
    {
        w.WriteString("op", "call");
        w.WriteString("task", request.Task.ToString());
        if (request.InputsFile is not null)
        {
            w.WriteString("inputs_file", workerPrefix + ".inputs.json");
        }
        else if (request.InputsJson.AsSpan().IndexOfAny('\n', '\r') < 0)
        {
            // Already JSON (checked as it is written); without line breaks it keeps the request on one line as it is.
            w.WritePropertyName("inputs");
            w.WriteRawValue(request.InputsJson.Length == 0 ? "{}" : request.InputsJson);
        }
        else
        {
            using var inputs = JsonDocument.Parse(request.InputsJson);
            w.WritePropertyName("inputs");
            inputs.RootElement.WriteTo(w);
        }

        w.WriteString("output_file", workerPrefix + ".output.json");
        w.WriteNumber("inline_limit", inlineLimit);
        w.WriteBoolean("stream", true);
    }

    /// <summary>The container ended (or closed its connection): its exit code and last stderr lines, once the process is gone.</summary>
    private async Task<Exception> DiedAsync()
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            await Task.WhenAll(_stderrPump, _stdoutPump).WaitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new FlyteSharpException($"reusable container {Name} closed its serve connection but did not end",
                fix: "do not close the runner's inherited descriptors from task code");
        }

        return new PythonWorkerDiedException(_process.ExitCode, StderrTail);
    }

    private async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        while (await _process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line == RunnerProtocol.ServeListening)
            {
                return;
            }

            AppendTail(line);
        }

        // The container ended before its runner listened (a broken image, a refused bundle).
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await _stderrPump.WaitAsync(cancellationToken).ConfigureAwait(false);
        throw new PythonWorkerDiedException(_process.ExitCode, StderrTail);
    }

    private string StderrTail
    {
        get
        {
            lock (_stderrTail)
            {
                return _stderrTail.ToString();
            }
        }
    }

    private void AppendTail(string line)
    {
        lock (_stderrTail)
        {
            _stderrTail.AppendLine(line);
            if (_stderrTail.Length > 8192)
            {
                _stderrTail.Remove(0, _stderrTail.Length - 8192);
            }
        }
    }

    /// <summary>
    /// Keeps the last lines of the replica's own log. They are never an action's: what the runner writes there belongs to
    /// no call (or to one that is dying, and then its error carries them), and this stream has no order with the socket.
    /// </summary>
    private async Task PumpAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                AppendTail(line);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process went away; a call in progress reports it.
        }
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The replica's folder goes with the replica.
        }
    }

    /// <summary>The error for a container that ended before its runner served (what it printed is in <paramref name="ex"/>).</summary>
    internal static FlyteSharpException StartFailed(ContainerRunSpec spec, PythonWorkerDiedException ex)
    {
        var tail = Processes.CliProcess.Tail(ex.Message, 12);
        if (ex.ExitCode == RunnerProtocol.BundleRefusedExitCode)
        {
            return new FlyteSharpException($"reusable container {spec.Name} refused the code bundle:\n{tail}",
                fix: "the bundle in the store is not the one this run recorded, or the container cannot reach the store");
        }

        var environment = spec.Labels.TryGetValue(ContainerLabels.Environment, out var name) ? $" of environment '{name}'" : "";
        if (ex.Message.Contains("unrecognized arguments: --serve-socket", StringComparison.Ordinal))
        {
            // argparse's words: the image carries a runner older than reusable containers' serve socket (a version deployed before it).
            return new FlyteSharpException(
                $"image {spec.Image.Uri}{environment} carries a FlyteSharp runner too old for reusable containers (it has no --serve-socket):\n{tail}",
                fix: "deploy the version again with this FlyteSharp (its image then gets the current runner), or run the environment without a reuse policy");
        }

        return new FlyteSharpException(
            $"image {spec.Image.Uri}{environment} could not start FlyteSharp's Python runner in a reusable container ({spec.Image.PythonExecutable} {spec.Image.RunnerPath}, exit code {ex.ExitCode}):\n{tail}",
            fix: "base the image on one with Python 3.9 or newer (Image.FromDebianBase or a python:3.x image), and keep the FlyteSharp runner layer");
    }
}
