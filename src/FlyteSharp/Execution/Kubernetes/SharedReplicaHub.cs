using System.Collections.Concurrent;
using System.Security.Cryptography;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Execution.Reuse;
using FlyteSharp.Tasks;
using k8s;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>
/// What the replica Pods of <see cref="ReuseScope.Global"/> environments pull from, for as long as this driver process
/// lives: a controller API server of its own (replica endpoints only, its own token), that token as one Kubernetes Secret,
/// its own API client (a run's client is closed when the run ends) and the pools, keyed by everything a Pod was started
/// with except the code (a new bundle digest reloads the interpreter in the same Pod). Removed when the process exits.
/// </summary>
internal sealed class SharedReplicaHub : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, Lazy<SharedReplicaHub>> Hubs = new(StringComparer.Ordinal);
    private static int _exitHooked;
    private readonly IKubernetes _client;
    private readonly string _directory;
    private readonly ConcurrentDictionary<string, ReplicaPool<PodReplica>> _pools = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    private SharedReplicaHub(IKubernetes client, string namespaceName, string listen, string advertisedUrl, TimeProvider time)
    {
        _client = client;
        _time = time;
        _directory = Path.Combine(Path.GetTempPath(), "flytesharp-replicas-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        Pods = new KubernetesPods(client, namespaceName, time);
        try
        {
            Server = ControllerServer.StartReplicaHub(time, _directory, listen, advertisedUrl);
        }
        finally
        {
            // The token reaches the Pods as a Secret and stays in memory here: no file of it is left in the temp folder,
            // not even by a driver that is killed (or whose hub fails to start).
            DeleteDirectory();
        }

        TokenSecret = new RunTokenSecret(Pods, OwnerRun);
    }

    /// <summary>The run label of the shared objects (they belong to the driver process, not to one run).</summary>
    public const string OwnerRun = "shared-replicas";

    /// <summary>The Pods' API (this hub's own client).</summary>
    public KubernetesPods Pods { get; }

    /// <summary>The controller API the shared replicas pull from.</summary>
    public ControllerServer Server { get; }

    /// <summary>The Secret holding <see cref="Server"/>'s token.</summary>
    public RunTokenSecret TokenSecret { get; }

    /// <summary>Replica Pods alive in every hub of this process.</summary>
    public static int Count => Hubs.Values.Where(h => h.IsValueCreated).Sum(h => h.Value._pools.Values.Sum(p => p.Count));

    /// <summary>The hub for <paramref name="key"/> (cluster, namespace and controller address), made on first use.</summary>
    public static SharedReplicaHub Get(string key, Func<IKubernetes> client, string namespaceName, string listen, string advertisedUrl, TimeProvider time)
    {
        if (Interlocked.Exchange(ref _exitHooked, 1) == 0)
        {
            // Bounded: a driver that exits does not leave its shared Pods running (runs gc finds them if this is cut short).
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeAllAsync().AsTask().Wait(TimeSpan.FromSeconds(60));
        }

        // The listen address's port is the hub's own: port 0, whatever the runs' servers listen on.
        var host = listen[..Math.Max(0, listen.LastIndexOf(':'))];
        var lazy = Hubs.GetOrAdd(key, _ => new Lazy<SharedReplicaHub>(() => new SharedReplicaHub(client(), namespaceName, host + ":0", advertisedUrl, time)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Hubs.TryRemove(new KeyValuePair<string, Lazy<SharedReplicaHub>>(key, lazy));
            throw;
        }
    }

    /// <summary>The pool for <paramref name="key"/>, made on first use.</summary>
    public ReplicaPool<PodReplica> Pool(string key, ReusePolicy policy) => _pools.GetOrAdd(key, _ => new ReplicaPool<PodReplica>(policy, _time));

    /// <summary>Deletes every shared replica Pod and token Secret of this process and stops the hubs' servers.</summary>
    public static async ValueTask DisposeAllAsync()
    {
        foreach (var key in Hubs.Keys.ToArray())
        {
            if (Hubs.TryRemove(key, out var hub) && hub.IsValueCreated)
            {
                await hub.Value.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var pool in _pools.Values)
        {
            await pool.DisposeAsync().ConfigureAwait(false);
        }

        await TokenSecret.DisposeAsync().ConfigureAwait(false);
        await Server.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
        DeleteDirectory();
    }

    private void DeleteDirectory()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Already gone, or an empty directory in the temp folder at worst.
        }
    }
}
