using System.Diagnostics;
using FlyteSharp.IntegrationTests.Infrastructure;

[assembly: AssemblyFixture(typeof(DotnetBaseImage))]

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// The local .NET test base (the debootstrap Python base plus the host's .NET runtime, <c>dotnet</c> on PATH), made and
/// cached by <c>scripts/dotnet-base-image.sh</c>: no public registry (and so no mcr.microsoft.com image) is reachable here.
/// </summary>
public sealed class DotnetBaseImage : IAsyncLifetime
{
    /// <summary>The image reference; tests start .NET images from it.</summary>
    public const string Reference = "localhost/flytesharp-test/debian-dotnet:bookworm";

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var script = Path.Combine(BaseImage.RepositoryRoot, "scripts", "dotnet-base-image.sh");
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
