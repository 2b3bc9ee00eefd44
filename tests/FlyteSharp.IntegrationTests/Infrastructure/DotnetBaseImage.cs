using System.Diagnostics;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// The local .NET runtime base C# container tests run on: the debootstrap Python base plus the host's .NET runtime,
/// made (and cached) by <c>scripts/dotnet-base-image.sh</c>, since no public registry is reachable here. Tests point
/// <c>FlyteConfig.DotnetBaseImage</c> at <see cref="Reference"/>.
/// </summary>
public static class DotnetBaseImage
{
    /// <summary>The image reference.</summary>
    public const string Reference = "localhost/flytesharp-test/debian-dotnet:bookworm";

    private static readonly Lazy<Task> Made = new(MakeAsync);

    /// <summary>Makes the image once per test process (the script returns at once when podman has it).</summary>
    public static Task EnsureAsync() => Made.Value;

    private static async Task MakeAsync()
    {
        var script = Path.Combine(BaseImage.RepositoryRoot, "scripts", "dotnet-base-image.sh");
        var start = new ProcessStartInfo(script) { ArgumentList = { Reference }, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{script} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }
    }
}
