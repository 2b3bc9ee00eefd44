using System.Diagnostics;
using FlyteSharp.IntegrationTests.Infrastructure;

[assembly: AssemblyFixture(typeof(BaseImage))]

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// The Debian bookworm + python3 (3.11) base image the container tests build on, made with
/// debootstrap by <c>scripts/base-image.sh</c> (no public registry is reachable here) and cached:
/// the script returns at once when podman already has the image, and re-imports a cached rootfs
/// tarball from <c>~/.cache/flytesharp</c> when only that exists.
/// </summary>
public sealed class BaseImage : IAsyncLifetime
{
    /// <summary>The image reference; tests set <c>FlyteConfig.PythonBaseImage</c> to it.</summary>
    public const string Reference = "localhost/flytesharp-test/debian-python:bookworm";

    /// <summary>The Python version inside the image.</summary>
    public const string PythonVersion = "3.11";

    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlyteSharp.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"FlyteSharp.slnx not found above {AppContext.BaseDirectory}");
    });

    /// <summary>The repository checkout the tests run from (the directory holding FlyteSharp.slnx).</summary>
    public static string RepositoryRoot => Root.Value;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var script = Path.Combine(RepositoryRoot, "scripts", "base-image.sh");
        var start = new ProcessStartInfo(script)
        {
            ArgumentList = { Reference },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{script} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
