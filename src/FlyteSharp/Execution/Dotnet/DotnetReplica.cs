using System.Text.Json;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Runner;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// One container of a reusable environment with C# tasks: <c>podman run --interactive --init … flytesharp-worker.dll
/// --serve</c>, driven over its attached stdio with the runners' JSON-lines client (the Python runner's serve requests
/// and replies). Its host directory is mounted at <see cref="ContainerRunSpec.IoMount"/> for each call's spill files.
/// </summary>
internal sealed class DotnetReplica : IReplica
{
    private readonly PythonWorker _worker;
    private readonly string? _secretDirectory;
    private readonly string? _authFile;
    private readonly ContainerTeardowns _teardowns;

    private DotnetReplica(ContainerRunSpec spec, string code, string? secretDirectory, PythonWorker worker, ContainerTeardowns teardowns)
    {
        Runtime = spec.Runtime;
        Name = spec.Name;
        HostDirectory = spec.IoDirectory;
        _authFile = spec.BundleAuthFile;
        Code = code;
        _secretDirectory = secretDirectory;
        _worker = worker;
        _teardowns = teardowns;
    }

    /// <summary>The container runtime (<c>podman</c> or <c>docker</c>).</summary>
    public string Runtime { get; }

    /// <summary>The container's name.</summary>
    public string Name { get; }

    /// <summary>The directory mounted at <see cref="ContainerRunSpec.IoMount"/>.</summary>
    public string HostDirectory { get; }

    /// <summary>The host file mounted as the worker's bundle credentials, or null when the store needs none.</summary>
    public string? BundleAuthFile => _authFile;

    /// <summary>What the worker serves: a bundle digest, or <see cref="AppCode"/>.</summary>
    public string Code { get; private set; }

    /// <summary>Actions this replica has run.</summary>
    public int Calls { get; private set; }

    /// <summary>The <see cref="Code"/> of assemblies baked into the image.</summary>
    public const string AppCode = "app";

    /// <inheritdoc />
    public bool HasExited => _worker.HasExited;

    /// <summary>Starts the container and waits until its worker answers (so a refused bundle fails here, not mid-action).</summary>
    /// <exception cref="FlyteSharpException">The container could not start the worker, or the worker refused the bundle.</exception>
    public static async Task<DotnetReplica> StartAsync(ContainerRunSpec spec, string code, string? secretDirectory, ContainerTeardowns teardowns, CancellationToken cancellationToken)
    {
        var arguments = spec.Arguments();
        // Attached stdio is the protocol; an init process reaps what tasks leave behind and lets a crashing worker end the container.
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

        var replica = new DotnetReplica(spec, code, secretDirectory, worker, teardowns);
        try
        {
            using var doc = await worker.SendAsync(RunnerProtocol.DescribeRequest([]), null, cancellationToken).ConfigureAwait(false);
            return replica;
        }
        catch (PythonWorkerDiedException ex)
        {
            await replica.CloseAsync(kill: false).ConfigureAwait(false);
            throw StartFailed(spec, ex);
        }
        catch
        {
            await replica.CloseAsync(kill: true).ConfigureAwait(false);
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
    /// Serves other code in the same container: the worker fetches and verifies <paramref name="bundle"/> (once per digest
    /// in this container) and loads its assemblies into a fresh load context on the next call, or goes back to the image's
    /// app folder when <paramref name="bundle"/> is null.
    /// </summary>
    /// <exception cref="FlyteSharpException">The worker refused the bundle (its old code keeps serving).</exception>
    public async Task ReloadAsync(ContainerBundleSource? bundle, string? digest, CancellationToken cancellationToken)
    {
        var request = new Dictionary<string, object?> { ["op"] = "reload" };
        if (bundle is null)
        {
            request["app_dir"] = DotnetWorkerCommand.AppDirectory;
        }
        else
        {
            request["bundle"] = bundle.Source;
            request["digest"] = digest;
            request["bundle_dir"] = DotnetWorkerCommand.ServeBundleDirectory(digest!);
            if (_authFile is not null)
            {
                request["auth_file"] = RunnerCommand.BundleAuthFile;
            }
        }

        using var doc = await _worker.SendAsync(request, null, cancellationToken).ConfigureAwait(false);
        var root = doc.RootElement;
        if (!root.TryGetProperty("ok", out var ok) || !ok.GetBoolean())
        {
            var error = RunnerProtocol.ParseCall(root).Error!;
            throw new FlyteSharpException($"reusable container {Name} refused the .NET bundle {digest}: {error.Message}",
                fix: error.Type.EndsWith("BundleDigestMismatch", StringComparison.Ordinal)
                    ? "the bundle in the store is not the one this run recorded (corrupted or replaced); run again to upload it afresh"
                    : "check that the container can reach the store");
        }

        Code = digest ?? AppCode;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The end of its input ends the worker's serve loop, and with it the container; a killed one ends at once. Then the
    /// host-side files go and the container's removal starts in the teardowns given at start.
    /// </remarks>
    public async Task RetireAsync(bool kill)
    {
        await CloseAsync(kill).ConfigureAwait(false);
        try
        {
            Directory.Delete(HostDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The sandbox (or the sweep) removes what is left.
        }

        _teardowns.Start(Runtime, Name, null, running: kill);
    }

    private async Task CloseAsync(bool kill)
    {
        if (kill)
        {
            _worker.Kill();
        }

        await _worker.DisposeAsync().ConfigureAwait(false);
        BundleCredentialFiles.Delete(_authFile);
        if (_secretDirectory is not null)
        {
            SecretFiles.Delete(_secretDirectory);
        }
    }

    private static FlyteSharpException StartFailed(ContainerRunSpec spec, PythonWorkerDiedException ex)
    {
        var tail = Processes.CliProcess.Tail(ex.Message, 12);
        if (ex.ExitCode == RunnerProtocol.BundleRefusedExitCode)
        {
            return new FlyteSharpException($"reusable container {spec.Name} refused the .NET bundle:\n{tail}",
                fix: tail.Contains("BundleDigestMismatch", StringComparison.Ordinal)
                    ? "the bundle in the store is not the one this run recorded (corrupted or replaced); run again to upload it afresh"
                    : "check that the container can reach the store");
        }

        var environment = spec.Labels.TryGetValue(ContainerLabels.Environment, out var name) ? $" of environment '{name}'" : "";
        return new FlyteSharpException(
            $"image {spec.Image.Uri}{environment} could not start FlyteSharp's .NET worker in a reusable container " +
            $"({DotnetWorkerCommand.DotnetExecutable} {DotnetWorkerCommand.EntryPath} --serve, exit code {ex.ExitCode}):\n{tail}",
            fix: "base the environment on Image.FromDotnetBase(…) (a .NET runtime image with dotnet on PATH; [images] dotnet_base), and keep its worker layer");
    }
}
