using System.Collections.Concurrent;
using FlyteSharp.Configuration;
using FlyteSharp.Processes;

namespace FlyteSharp.Building;

/// <summary>Chooses the image builder: the one <see cref="FlyteConfig.Builder"/> names, or the first that works here.</summary>
public static class ImageBuilders
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<IImageBuilder>>> Detected = new(StringComparer.Ordinal);

    /// <summary>
    /// The builder for <paramref name="config"/>: <c>podman</c> or <c>docker</c> (buildx) when named;
    /// for <c>auto</c>, podman when it is on PATH and answers <c>podman info</c>, else docker when its
    /// daemon is reachable and buildx is installed. The auto result is remembered for the process.
    /// </summary>
    /// <exception cref="FlyteSharpException">No working builder; the message says what to install.</exception>
    public static Task<IImageBuilder> CreateAsync(FlyteConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Builder switch
        {
            ImageBuilderKind.Podman => Task.FromResult<IImageBuilder>(new PodmanBuilder()),
            ImageBuilderKind.Docker => Task.FromResult<IImageBuilder>(new DockerBuildxBuilder()),
            _ => DetectCached(cancellationToken),
        };
    }

    private static async Task<IImageBuilder> DetectCached(CancellationToken cancellationToken)
    {
        var lazy = Detected.GetOrAdd("auto", _ => new Lazy<Task<IImageBuilder>>(() => DetectAsync(CliProcess.IsOnPath, CancellationToken.None)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (FlyteSharpException)
        {
            // Don't remember a failure: the user may install a builder and retry in the same process.
            Detected.TryRemove("auto", out _);
            throw;
        }
    }

    internal static async Task<IImageBuilder> DetectAsync(Func<string, bool> isOnPath, CancellationToken cancellationToken)
    {
        var tried = new List<string>();
        if (isOnPath("podman"))
        {
            var info = await CliProcess.RunAsync("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"], cancellationToken: cancellationToken).ConfigureAwait(false);
            if (info.Succeeded)
            {
                return new PodmanBuilder();
            }

            tried.Add($"podman is installed but 'podman info' failed: {CliProcess.Tail(info.Combined, 3)}");
        }
        else
        {
            tried.Add("podman is not on PATH");
        }

        if (isOnPath("docker"))
        {
            var info = await CliProcess.RunAsync("docker", ["info", "--format", "{{.ServerVersion}}"], cancellationToken: cancellationToken).ConfigureAwait(false);
            var buildx = info.Succeeded
                ? await CliProcess.RunAsync("docker", ["buildx", "version"], cancellationToken: cancellationToken).ConfigureAwait(false)
                : null;
            if (info.Succeeded && buildx!.Succeeded)
            {
                return new DockerBuildxBuilder();
            }

            tried.Add(info.Succeeded
                ? "docker's daemon answers but the buildx plugin is missing"
                : $"docker is installed but its daemon is not reachable: {CliProcess.Tail(info.Combined, 3)}");
        }
        else
        {
            tried.Add("docker is not on PATH");
        }

        throw new FlyteSharpException(
            "no working image builder found (" + string.Join("; ", tried) + ")",
            fix: "install podman (Debian/Ubuntu: apt-get install podman) or Docker with the buildx plugin and a running daemon; " +
                 "or set images.builder in flytesharp.toml");
    }
}
