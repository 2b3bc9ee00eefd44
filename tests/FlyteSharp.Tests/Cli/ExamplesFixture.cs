using FlyteSharp.Cli;
using FlyteSharp.Cli.Projects;
using FlyteSharp.Projects;

namespace FlyteSharp.Tests.Cli;

/// <summary>
/// Builds the example projects once for all CLI tests in the "examples" collection (real
/// <c>dotnet build</c>); the tests then run commands with <c>--no-build</c>. Also writes a config file with
/// fixed image settings so golden Dockerfiles do not depend on the machine.
/// </summary>
public sealed class ExamplesFixture : IAsyncLifetime
{
    public static string RepoRoot { get; } = SourceLocation.Combine("../../..");

    public static string PatternA { get; } = Path.Combine(RepoRoot, "examples", "workspace-monorepo", "dotnet");

    public static string PatternB { get; } = Path.Combine(RepoRoot, "examples", "sibling-packages", "dotnet");

    /// <summary>The uv workspace example (root package + two members).</summary>
    public static string UvWorkspace { get; } = Path.Combine(RepoRoot, "examples", "uv-workspace", "dotnet");

    public string TempDir { get; } = Directory.CreateTempSubdirectory("flytesharp-cli-").FullName;

    /// <summary>A config with fixed registry/base/uv images and root_dir of Pattern A (src/).</summary>
    public string ConfigA => Path.Combine(TempDir, "a.toml");

    /// <summary>The same for Pattern B (root_dir my_app/src).</summary>
    public string ConfigB => Path.Combine(TempDir, "b.toml");

    /// <summary>The same for the uv workspace example (root_dir at the workspace root).</summary>
    public string ConfigUvWorkspace => Path.Combine(TempDir, "uvws.toml");

    public async ValueTask InitializeAsync()
    {
        const string images = "[images]\nregistry = \"localhost:5000\"\nname = \"flytesharp\"\npython_base = \"python:{python}-slim-bookworm\"\nuv_image = \"ghcr.io/astral-sh/uv:0.9.5\"\n";
        await File.WriteAllTextAsync(ConfigA, $"root_dir = \"{Path.Combine(RepoRoot, "examples/workspace-monorepo/src")}\"\n{images}");
        await File.WriteAllTextAsync(ConfigB, $"root_dir = \"{Path.Combine(RepoRoot, "examples/sibling-packages/my_app/src")}\"\n{images}");
        await ProjectLoader.LoadAsync(PatternA, build: true);
        await File.WriteAllTextAsync(ConfigUvWorkspace, $"root_dir = \"{Path.Combine(RepoRoot, "examples/uv-workspace")}\"\n{images}");
        await ProjectLoader.LoadAsync(PatternB, build: true);
        await ProjectLoader.LoadAsync(UvWorkspace, build: true);
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(TempDir, recursive: true);
        return ValueTask.CompletedTask;
    }

    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await FlyteCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }
}

[CollectionDefinition("examples")]
public sealed class ExamplesCollection : ICollectionFixture<ExamplesFixture>;
