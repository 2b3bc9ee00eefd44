using System.Text.Json;
using FlyteSharp.Configuration;
using FlyteSharp.Registry;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// Registry credentials for a code bundle in a private <c>oci://</c> store, handed to a container the one way both runners
/// (<c>flytesharp_runner.py</c> and the .NET worker) read them: a JSON file <c>{"authorization": "&lt;header value&gt;"}</c>
/// (mode 0600, outside the action's writable directory) mounted read-only at <see cref="RunnerCommand.BundleAuthFile"/>
/// and named by <c>--bundle-auth-file</c> — never an argument value or an environment variable, which <c>podman
/// inspect</c> shows. The value is a pull-only Bearer token for the bundle's repository where the registry issues tokens
/// (asked per container: tokens are short-lived), or the Basic credential where it asks for Basic.
/// </summary>
internal sealed class BundleCredentialFiles(FlyteConfig config, string directory, TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private OciRegistryClient? _client;
    private bool _needsNoAuth;

    /// <summary>Writes the credentials file for pulling <paramref name="digest"/> from <paramref name="repository"/>; null when the registry needs none (asked once).</summary>
    /// <param name="host">The store's registry host.</param>
    /// <param name="repository">The store's repository.</param>
    /// <param name="digest">The bundle's digest.</param>
    /// <param name="name">A name unique among the run's containers (the file is <c>auth-{name}.json</c>).</param>
    /// <param name="cancellationToken">Cancels the registry call.</param>
    public async Task<string?> WriteAsync(string host, string repository, string digest, string name, CancellationToken cancellationToken)
    {
        OciRegistryClient client;
        lock (_gate)
        {
            if (_needsNoAuth)
            {
                return null;
            }

            client = _client ??= new OciRegistryClient(host, config, time: time);
        }

        var authorization = await client.PullAuthorizationAsync(repository, digest, cancellationToken).ConfigureAwait(false);
        if (authorization is null)
        {
            lock (_gate)
            {
                _needsNoAuth = true;
            }

            return null;
        }

        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"auth-{name}.json");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var file = new FileStream(path, options);
        await using (file.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(file, new Dictionary<string, string> { ["authorization"] = authorization }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return path;
    }

    /// <summary>
    /// Before a long-lived container fetches another bundle, puts fresh credentials into the file it has mounted
    /// (<paramref name="mounted"/>): those it started with may have expired (registry tokens live minutes) and the run that
    /// wrote them may be gone. Written in place, because a bind mount holds the file's inode: a file renamed over it would
    /// stay invisible to the container. A mounted file that vanished from the host is left as it is: the fetch then uses
    /// what the container still sees, and a refusal says so.
    /// </summary>
    /// <param name="mounted">The mounted credentials file (mode 0600, kept), or null when the store needs none.</param>
    /// <param name="write">Writes the calling run's credentials to a new file (<see cref="WriteAsync"/>), or null when there is no store.</param>
    public static async Task RefreshAsync(string? mounted, Func<Task<string?>>? write)
    {
        if (mounted is null || write is null || await write().ConfigureAwait(false) is not { } fresh)
        {
            return;
        }

        try
        {
            var bytes = await File.ReadAllBytesAsync(fresh).ConfigureAwait(false);
            using var target = new FileStream(mounted, FileMode.Truncate, FileAccess.Write);
            target.Write(bytes);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
        }
        finally
        {
            File.Delete(fresh);
        }
    }

    /// <summary>
    /// Moves a credentials file <see cref="WriteAsync"/> wrote for a shared (<c>ReuseScope.Global</c>) replica out of the
    /// run's sandbox, which goes with the run while the replica stays, to <c>{home}/replica-credentials/{container}.json</c>
    /// (folder 0700, not mounted anywhere): a later run can then refresh it in place (<see cref="RefreshAsync"/>). The replica
    /// deletes it when it retires, <c>runs gc</c> once its container is gone.
    /// </summary>
    /// <param name="written">The file just written.</param>
    /// <param name="home">The FlyteSharp home.</param>
    /// <param name="container">The replica's container name.</param>
    /// <returns>The file's new path.</returns>
    public static string KeepForSharedReplica(string written, string home, string container)
    {
        var folder = SharedReplicaFolder(home);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var kept = Path.Combine(folder, container + ".json");
        File.Move(written, kept, overwrite: true);
        return kept;
    }

    /// <summary>Where <see cref="KeepForSharedReplica"/> keeps shared replicas' credentials files.</summary>
    /// <param name="home">The FlyteSharp home.</param>
    public static string SharedReplicaFolder(string home) => Path.Combine(home, "replica-credentials");

    /// <summary>Deletes a file <see cref="WriteAsync"/> wrote (null: nothing to do).</summary>
    public static void Delete(string? path)
    {
        if (path is not null)
        {
            try
            {
                File.Delete(path);
            }
            catch (DirectoryNotFoundException)
            {
                // Its folder (a run's sandbox) is already gone, and the file with it.
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _client?.Dispose();
}
