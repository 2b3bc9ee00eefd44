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

    /// <summary>Deletes a file <see cref="WriteAsync"/> wrote (null: nothing to do).</summary>
    public static void Delete(string? path)
    {
        if (path is not null)
        {
            File.Delete(path);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _client?.Dispose();
}
