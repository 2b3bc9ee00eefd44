using System.Text.Json;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Processes;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// One container of a reusable environment: <c>podman run --interactive --init … flytesharp_runner.py … --serve</c>,
/// driven over its attached stdio by a <see cref="PythonWorker"/> (the same JSON-lines protocol as a local warm
/// interpreter). Its host directory is mounted at <see cref="ContainerRunSpec.IoMount"/> for the spill files of each call.
/// </summary>
internal sealed class ContainerReplica : IReplica
{
    private readonly PythonWorker _worker;
    private readonly string? _secretDirectory;
    private readonly string? _authFile;
    private readonly ContainerTeardowns _teardowns;

    private ContainerReplica(string runtime, string name, string hostDirectory, string? secretDirectory, string? authFile, string? digest, PythonWorker worker, ContainerTeardowns teardowns)
    {
        _teardowns = teardowns;
        Runtime = runtime;
        Name = name;
        HostDirectory = hostDirectory;
        _secretDirectory = secretDirectory;
        _authFile = authFile;
        Digest = digest;
        _worker = worker;
    }

    /// <summary>The container runtime (<c>podman</c> or <c>docker</c>).</summary>
    public string Runtime { get; }

    /// <summary>The container's name.</summary>
    public string Name { get; }

    /// <summary>The directory mounted at <see cref="ContainerRunSpec.IoMount"/>.</summary>
    public string HostDirectory { get; }

    /// <summary>The bundle digest the interpreter serves (null when the code is in the image).</summary>
    public string? Digest { get; private set; }

    /// <summary>Actions this replica has run.</summary>
    public int Calls { get; private set; }

    /// <summary>True once the container's attached process ended (the container stopped, crashed or was removed).</summary>
    public bool HasExited => _worker.HasExited;

    /// <summary>
    /// Starts the container with <paramref name="spec"/> (its runner arguments end in <c>--serve</c>) and waits until the
    /// runner answers, so a broken image or a refused bundle fails here, not in the middle of an action.
    /// </summary>
    /// <exception cref="FlyteSharpException">The container could not start the runner, or refused the bundle.</exception>
    /// <param name="spec">The container.</param>
    /// <param name="secretDirectory">The host directory of its secret files, deleted with the replica.</param>
    /// <param name="teardowns">Where its container's removal goes when it retires.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<ContainerReplica> StartAsync(ContainerRunSpec spec, string? secretDirectory, ContainerTeardowns teardowns, CancellationToken cancellationToken)
    {
        var arguments = spec.Arguments();
        // Attached stdio is the protocol; an init process reaps what tasks leave behind and lets a crashing interpreter end the container.
        IReadOnlyList<string> run = [arguments[0], "--interactive", "--init", .. arguments.Skip(1)];
        PythonWorker worker;
        try
        {
            worker = PythonWorker.StartAttached(spec.Runtime, run);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new FlyteSharpException($"could not start '{spec.Runtime}' for a reusable container: {ex.Message}", fix: "install podman (or docker)", inner: ex);
        }

        var replica = new ContainerReplica(spec.Runtime, spec.Name, spec.IoDirectory, secretDirectory, spec.BundleAuthFile, spec.BundleDigest, worker, teardowns);
        try
        {
            using var doc = await worker.SendAsync(Runner.RunnerProtocol.DescribeRequest([]), null, cancellationToken).ConfigureAwait(false);
            return replica;
        }
        catch (PythonWorkerDiedException ex)
        {
            await replica.CloseAsync().ConfigureAwait(false);
            throw StartFailed(spec, ex);
        }
        catch
        {
            await replica.CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends one serve request; a died container surfaces as <see cref="PythonWorkerDiedException"/>.</summary>
    public async Task<JsonDocument> SendAsync(Dictionary<string, object?> request, Action<string, string>? log, CancellationToken cancellationToken)
    {
        Calls++;
        return await _worker.SendAsync(request, log, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Serves another bundle: the runner fetches and verifies it into its own directory (once per digest in this
    /// container) and restarts its interpreter; the container keeps running.
    /// </summary>
    /// <exception cref="FlyteSharpException">The runner refused the bundle (its old code keeps serving).</exception>
    public async Task ReloadAsync(ContainerBundleSource bundle, string digest, IReadOnlyList<string> importPaths, CancellationToken cancellationToken)
    {
        var request = new Dictionary<string, object?>
        {
            ["op"] = "reload",
            ["bundle"] = bundle.Source,
            ["digest"] = digest,
            ["bundle_dir"] = BundleDirectoryFor(digest),
            ["paths"] = importPaths.ToArray(),
            ["fetch_attempts"] = Registry.RegistryRetry.MaxAttempts,
            ["fetch_backoff"] = Registry.RegistryRetry.InitialBackoff.TotalSeconds,
        };
        if (_authFile is not null)
        {
            request["auth_file"] = RunnerCommand.BundleAuthFile;
        }

        using var doc = await _worker.SendAsync(request, null, cancellationToken).ConfigureAwait(false);
        var root = doc.RootElement;
        if (!root.GetProperty("ok").GetBoolean())
        {
            var error = Runner.RunnerProtocol.ParseCall(root).Error!;
            throw new FlyteSharpException($"reusable container {Name} refused the code bundle {digest}: {error.Message}",
                fix: "the bundle in the store is not the one this run recorded, or the container cannot reach the store");
        }

        Digest = digest;
    }

    /// <summary>Where the runner unpacks bundle <paramref name="digest"/> inside a replica (one directory per digest).</summary>
    public static string BundleDirectoryFor(string digest) => "/tmp/flytesharp/bundles/" + digest.Replace("sha256:", "", StringComparison.Ordinal);

    /// <inheritdoc/>
    /// <remarks>
    /// The end of its input ends the runner's serve loop, and with it the container; a killed one ends at once. Then the
    /// host-side files go and the container's removal starts in the teardowns given at start.
    /// </remarks>
    public async Task RetireAsync(bool kill)
    {
        await CloseAsync(kill).ConfigureAwait(false);
        DeleteHostDirectory();
        _teardowns.Start(Runtime, Name, null, running: kill);
    }

    private async Task CloseAsync(bool kill = false)
    {
        if (kill)
        {
            _worker.Kill();
        }

        await _worker.DisposeAsync().ConfigureAwait(false);
        if (_secretDirectory is not null)
        {
            SecretFiles.Delete(_secretDirectory);
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

    private static FlyteSharpException StartFailed(ContainerRunSpec spec, PythonWorkerDiedException ex)
    {
        var tail = Processes.CliProcess.Tail(ex.Message, 12);
        if (ex.ExitCode == Runner.RunnerProtocol.BundleRefusedExitCode)
        {
            return new FlyteSharpException($"reusable container {spec.Name} refused the code bundle:\n{tail}",
                fix: "the bundle in the store is not the one this run recorded, or the container cannot reach the store");
        }

        var environment = spec.Labels.TryGetValue(ContainerLabels.Environment, out var name) ? $" of environment '{name}'" : "";
        return new FlyteSharpException(
            $"image {spec.Image.Uri}{environment} could not start FlyteSharp's Python runner in a reusable container ({spec.Image.PythonExecutable} {spec.Image.RunnerPath}, exit code {ex.ExitCode}):\n{tail}",
            fix: "base the image on one with Python 3.9 or newer (Image.FromDebianBase or a python:3.x image), and keep the FlyteSharp runner layer");
    }
}
