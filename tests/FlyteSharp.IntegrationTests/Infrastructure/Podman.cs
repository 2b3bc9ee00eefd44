using FlyteSharp.Processes;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>Small helpers over the real podman CLI for assertions and clean-up in tests.</summary>
public static class Podman
{
    /// <summary>Runs podman and returns its exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var result = await CliProcess.RunAsync("podman", arguments, cancellationToken: TestContext.Current.CancellationToken);
        return (result.ExitCode, result.Combined);
    }

    /// <summary>True when podman's local store has <paramref name="image"/>.</summary>
    public static async Task<bool> ImageExistsAsync(string image) => (await RunAsync("image", "exists", image)).ExitCode == 0;

    /// <summary>Removes <paramref name="image"/> from the local store, if present.</summary>
    public static Task RemoveImageAsync(string image) => RunAsync("rmi", "--force", image);

    /// <summary>Names of containers (running or not) whose name starts with <paramref name="prefix"/>.</summary>
    public static async Task<IReadOnlyList<string>> ContainersAsync(string prefix)
    {
        var (_, output) = await RunAsync("ps", "--all", "--format", "{{.Names}}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToList();
    }
}
