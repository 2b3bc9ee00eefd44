using System.Globalization;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Secrets;
using FlyteSharp.Runs;
using FlyteSharp.Processes;

namespace FlyteSharp.Execution.Sandboxes;

/// <summary>
/// Cleans up after runs whose process is gone (killed, crashed, machine rebooted): marks them abandoned in the run
/// store, stops and removes the containers their process started (found by the owner labels), and deletes their
/// sandboxes once older than <see cref="FlyteConfig.SandboxMaxAge"/>. The sandbox of a live run is never touched:
/// its owner file names a process that still runs.
/// </summary>
internal static class SandboxSweeper
{
    /// <summary>How long the sweep at the start of a run may take before it leaves the rest for the next one.</summary>
    public static TimeSpan RunStartBudget { get; } = TimeSpan.FromSeconds(5);

    /// <summary>The file in a sandbox's <c>containers/</c> directory naming the runtime its containers ran in.</summary>
    public const string RuntimeFileName = "runtime";

    /// <summary>
    /// A sandbox without an owner file is at least this old before it is removed, whatever the age limit: the owner
    /// file is written just after the directory is made, so a younger one may belong to a run that is starting now.
    /// </summary>
    private static readonly TimeSpan UnownedMinimumAge = TimeSpan.FromMinutes(1);

    /// <summary>The bounded sweep every run start does; it never fails the run (what it misses, the next sweep does).</summary>
    public static async Task SweepAtRunStartAsync(FlyteConfig config, RunStore store, CancellationToken cancellationToken)
    {
        try
        {
            await SweepAsync(config, store, config.SandboxMaxAge, RunStartBudget, allContainers: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or FlyteSharpException
                                   || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Best effort: a leftover is harmless for this run, and `flytesharp runs gc` reports what it cannot remove.
        }
    }

    /// <summary>
    /// Sweeps: marks abandoned runs, removes the containers of gone owners (all of them on every runtime on PATH when
    /// <paramref name="allContainers"/>, else only those a dead owner's sandbox says it started), and deletes sandboxes
    /// of gone owners whose run ended (or was last touched) at least <paramref name="maxAge"/> ago.
    /// </summary>
    public static async Task<SweepReport> SweepAsync(
        FlyteConfig config, RunStore store, TimeSpan maxAge, TimeSpan? budget, bool allContainers, CancellationToken cancellationToken)
    {
        var time = store.TimeProvider;
        using var timeout = budget is { } b ? new CancellationTokenSource(b, time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var token = linked.Token;

        var abandoned = store.MarkAbandonedRuns();
        var removedContainers = new List<string>();
        var removedSandboxes = new List<string>();
        var kept = 0;
        var complete = true;
        if (allContainers)
        {
            foreach (var runtime in Runtimes(config))
            {
                removedContainers.AddRange(await RemoveContainersAsync(runtime, null, token).ConfigureAwait(false) ?? []);
            }
        }

        var root = RunSandbox.Root(config.Home);
        var sandboxes = Directory.Exists(root) ? Directory.GetDirectories(root) : [];
        Array.Sort(sandboxes, StringComparer.Ordinal);
        foreach (var sandbox in sandboxes)
        {
            if (token.IsCancellationRequested)
            {
                complete = false;
                break;
            }

            var owner = RunSandbox.ReadOwner(sandbox);
            if (owner is not null && IsOwnerAlive(owner, store))
            {
                kept++;
                continue;
            }

            var runtimeFile = Path.Combine(sandbox, "containers", RuntimeFileName);
            if (owner is not null && File.Exists(runtimeFile))
            {
                var runtime = (await File.ReadAllTextAsync(runtimeFile, token).ConfigureAwait(false)).Trim();
                var removed = runtime is "podman" or "docker" ? await RemoveContainersAsync(runtime, owner, token).ConfigureAwait(false) : [];
                if (removed is not null)
                {
                    removedContainers.AddRange(removed);
                    // The evidence is consumed: the next sweep does not ask the runtime again for this sandbox.
                    File.Delete(runtimeFile);
                }
            }

            var lastActivity = LastActivity(sandbox, owner, store);
            var age = time.GetUtcNow() - lastActivity;
            if (age >= maxAge && (owner is not null || age >= UnownedMinimumAge) && RunSandbox.TryDelete(sandbox))
            {
                removedSandboxes.Add(sandbox);
            }
            else
            {
                kept++;
            }
        }

        if (allContainers && !token.IsCancellationRequested)
        {
            removedSandboxes.AddRange(await RemoveReplicaFoldersAsync(config, time, token).ConfigureAwait(false));
        }

        // Containers first: a replica of a gone driver keeps its secret files mounted until it is removed above.
        var removedSecrets = SecretFiles.DeleteOrphans();
        var (kubernetesSecrets, kubernetesPods, kubernetesError) = allContainers && UsesKubernetes(config) ? await SweepKubernetesAsync(config, store, token).ConfigureAwait(false) : ([], [], null);
        return new SweepReport(abandoned, removedSandboxes, removedContainers, kept, complete && !timeout.IsCancellationRequested)
        {
            RemovedSecretDirectories = removedSecrets,
            RemovedKubernetesSecrets = kubernetesSecrets,
            RemovedKubernetesPods = kubernetesPods,
            KubernetesError = kubernetesError,
        };
    }

    private static bool UsesKubernetes(FlyteConfig config) => config.Mode == ExecutionMode.Kubernetes || config.KubeConfig is not null;

    /// <summary>The controller token Secrets and replica Pods of gone drivers in the configured namespace; an unreachable cluster is reported, not thrown.</summary>
    private static async Task<(IReadOnlyList<string> Secrets, IReadOnlyList<string> Pods, string? Error)> SweepKubernetesAsync(FlyteConfig config, RunStore store, CancellationToken cancellationToken)
    {
        try
        {
            var configuration = Kubernetes.KubernetesClients.Configuration(config);
            using var client = new k8s.Kubernetes(configuration);
            var pods = new Kubernetes.KubernetesPods(client, Kubernetes.KubernetesClients.Namespace(config, configuration), store.TimeProvider);
            // Pods first: a replica Pod of a gone driver keeps the token Secret mounted until it is deleted.
            var removedPods = await Kubernetes.KubernetesSweeper.RemoveReplicaPodsAsync(pods, store, cancellationToken).ConfigureAwait(false);
            return (await Kubernetes.KubernetesSweeper.RemoveControllerSecretsAsync(pods, store, cancellationToken).ConfigureAwait(false), removedPods, null);
        }
        catch (FlyteSharpException ex)
        {
            return ([], [], ex.Message);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return ([], [], $"the Kubernetes API could not be reached: {ex.Message}");
        }
    }

    private static bool IsOwnerAlive(SandboxOwner owner, RunStore store) =>
        owner.Host == RunStore.Self.Host
            ? RunStore.IsAlive(owner.Pid, owner.Start)
            : store.GetRun(owner.Run) is { Status: RunStatus.Running }; // another host's run: alive while its heartbeat is fresh

    /// <summary>When the sandbox's run was last alive: its recorded end, else the sandbox's own last write.</summary>
    private static DateTimeOffset LastActivity(string sandbox, SandboxOwner? owner, RunStore store)
    {
        var written = new DateTimeOffset(Directory.GetLastWriteTimeUtc(sandbox), TimeSpan.Zero);
        if (owner is null)
        {
            return written;
        }

        // A run of the same name recorded by another process (this sandbox's start was refused) says nothing about it.
        var run = store.GetRun(owner.Run);
        return run?.EndedAt is { } ended && ended >= owner.CreatedAt ? ended : written > owner.CreatedAt ? written : owner.CreatedAt;
    }

    private static readonly string[] AnyRuntime = ["podman", "docker"];

    /// <summary>
    /// The folders of shared (<c>ReuseScope.Global</c>) replicas (<c>{home}/replicas/{container}</c>: spill files with task
    /// inputs and outputs, the hard-linked controller sockets of .NET replicas) and their bundle credentials files
    /// (<c>{home}/replica-credentials/{container}.json</c>) whose container no longer exists in any runtime: their driver
    /// died before it could retire them. One younger than a minute may be a replica starting now (made before its
    /// container); one whose container the runtimes cannot be asked about is kept.
    /// </summary>
    private static async Task<List<string>> RemoveReplicaFoldersAsync(FlyteConfig config, TimeProvider time, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        var runtimes = Runtimes(config).ToArray();
        if (runtimes.Length == 0)
        {
            return removed;
        }

        var folders = Path.Combine(config.Home, "replicas");
        var credentials = Containers.BundleCredentialFiles.SharedReplicaFolder(config.Home);
        var leftovers = (Directory.Exists(folders) ? Directory.GetDirectories(folders).Select(f => (Path: f, Container: Path.GetFileName(f))) : [])
            .Concat(Directory.Exists(credentials) ? Directory.GetFiles(credentials, "*.json").Select(f => (Path: f, Container: Path.GetFileNameWithoutExtension(f))) : []);
        foreach (var (path, container) in leftovers)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            var written = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
            if (time.GetUtcNow() - written < UnownedMinimumAge)
            {
                continue;
            }

            var gone = true;
            foreach (var runtime in runtimes)
            {
                gone &= await ContainerGoneAsync(runtime, container, cancellationToken).ConfigureAwait(false);
            }

            if (gone && (Directory.Exists(path) ? RunSandbox.TryDelete(path) : TryDeleteFile(path)))
            {
                removed.Add(path);
            }
        }

        return removed;
    }

    private static bool TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="runtime"/> says it has no container named <paramref name="name"/> (false when it cannot tell).</summary>
    private static async Task<bool> ContainerGoneAsync(string runtime, string name, CancellationToken cancellationToken)
    {
        try
        {
            if (runtime == "podman")
            {
                var exists = await CliProcess.RunAsync(runtime, ["container", "exists", name], cancellationToken: cancellationToken).ConfigureAwait(false);
                return exists.ExitCode == 1;
            }

            var inspect = await CliProcess.RunAsync(runtime, ["container", "inspect", "--format", "{{.Id}}", name], cancellationToken: cancellationToken).ConfigureAwait(false);
            // A docker client whose daemon is not running has no container running either (podman needs no daemon).
            return inspect.ExitCode == 1 && (inspect.StandardError.Contains("No such", StringComparison.OrdinalIgnoreCase)
                                             || inspect.StandardError.Contains("Cannot connect to the Docker daemon", StringComparison.Ordinal));
        }
        catch (FlyteSharpException)
        {
            return false;
        }
    }

    private static IEnumerable<string> Runtimes(FlyteConfig config) =>
        (config.Builder == ImageBuilderKind.Auto ? AnyRuntime : [EnumNames.Name(config.Builder)]).Where(CliProcess.IsOnPath);

    /// <summary>
    /// Removes (kill, then delete) the containers of <paramref name="runtime"/> whose owner process is gone: those of
    /// <paramref name="owner"/> only, or when null every container whose owner label names a gone process of this host.
    /// Null when the runtime could not be asked or could not remove them (the next sweep tries again).
    /// </summary>
    private static async Task<List<string>?> RemoveContainersAsync(string runtime, SandboxOwner? owner, CancellationToken cancellationToken)
    {
        string Label(string key) => runtime == "docker" ? $"{{{{.Label \"{key}\"}}}}" : $"{{{{index .Labels \"{key}\"}}}}";
        var format = string.Join("\t", "{{.ID}}", Label(ContainerLabels.OwnerHost), Label(ContainerLabels.OwnerPid), Label(ContainerLabels.OwnerStart), Label(ContainerLabels.Run));
        var filter = owner is null ? $"label={ContainerLabels.OwnerPid}" : $"label={ContainerLabels.OwnerPid}={owner.Pid.ToString(CultureInfo.InvariantCulture)}";
        CliResult list;
        try
        {
            list = await CliProcess.RunAsync(runtime, ["ps", "--all", "--filter", filter, "--format", format], cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (FlyteSharpException)
        {
            return null;
        }

        if (!list.Succeeded)
        {
            return null;
        }

        var doomed = new List<(string Id, string Run)>();
        foreach (var line in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split('\t');
            if (fields.Length < 5 || fields[1] != RunStore.Self.Host
                || !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || !long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            {
                continue;
            }

            var matches = owner is null ? !RunStore.IsAlive(pid, start) : pid == owner.Pid && start == owner.Start && fields[4] == owner.Run;
            if (matches)
            {
                doomed.Add((fields[0], fields[4]));
            }
        }

        if (doomed.Count == 0)
        {
            return [];
        }

        List<string> args = runtime == "podman" ? ["rm", "--force", "--time", "0", "--volumes"] : ["rm", "--force", "--volumes"];
        args.AddRange(doomed.Select(d => d.Id));
        var removed = await CliProcess.RunAsync(runtime, args, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!removed.Succeeded)
        {
            return null;
        }

        var gone = removed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        return doomed.Where(d => gone.Any(g => g.StartsWith(d.Id, StringComparison.Ordinal) || d.Id.StartsWith(g, StringComparison.Ordinal)))
            .Select(d => $"{runtime}:{d.Id} ({d.Run})").ToList();
    }
}
