using FlyteSharp.Cli;
using FlyteSharp.Cli.Projects;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// A real C# project for CLI container tests (built once per test class with <c>dotnet build</c>): two
/// environments sharing one image and a third with its own, tasks declared in another type than the environments,
/// Python tasks under <c>src/</c>, and a
/// <c>flytesharp.toml</c> pointing at the test registry, the debootstrap base and a private home.
/// It lives under the repository's <c>artifacts/</c> so it builds with the repository's settings.
/// </summary>
public sealed class PodmanCliProject : IAsyncLifetime
{
    private readonly DistributionRegistry _registry;

    /// <summary>Creates the project for <paramref name="registry"/>.</summary>
    public PodmanCliProject(DistributionRegistry registry)
    {
        _registry = registry;
        Root = Path.Combine(BaseImage.RepositoryRoot, "artifacts", "it-projects", "p" + Guid.NewGuid().ToString("N")[..10]);
        Repository = "flytesharp-test/cli" + Guid.NewGuid().ToString("N")[..8];
    }

    /// <summary>The project folder (holds the .csproj, flytesharp.toml and src/).</summary>
    public string Root { get; }

    /// <summary>The image repository this project pushes to.</summary>
    public string Repository { get; }

    /// <summary>The private FlyteSharp home (store, run database, build logs).</summary>
    public string Home => Path.Combine(Root, "home");

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Root, "src", "app"));
        var flyteSharp = Path.GetRelativePath(Root, Path.Combine(BaseImage.RepositoryRoot, "src", "FlyteSharp", "FlyteSharp.csproj"));
        await File.WriteAllTextAsync(Path.Combine(Root, "CliApp.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Library</OutputType>
                <IsPackable>false</IsPackable>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{flyteSharp}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(Root, "Envs.cs"), """
            using FlyteSharp.Images;
            using FlyteSharp.Tasks;

            namespace CliApp;

            public static class Envs
            {
                private static readonly Image Shared = Image.FromDebianBase("3.11").WithEnvVars(new Dictionary<string, string> { ["APP_ROLE"] = "shared" }).WithCodeBundle();

                public static readonly TaskEnvironment Etl = new("etl", Shared, new Resources(Cpu: "1", Memory: "256Mi"));

                public static readonly TaskEnvironment Report = new("report", Shared);

                public static readonly TaskEnvironment Ml = new("ml", Image.FromDebianBase("3.11").WithEnvVars(new Dictionary<string, string> { ["APP_ROLE"] = "ml" }).WithCodeBundle());
            }

            // Tasks in another type than the environments: loading the environments alone does not register them.
            public static class Pipelines
            {
                public static readonly FlyteTask<int, int> Square = Envs.Etl.PythonTask<int, int>("app.ops:square");

                public static readonly FlyteTask<int, int> SumOfSquares = Envs.Etl.Task("sum_of_squares", async (int n) =>
                {
                    var total = 0;
                    for (var i = 1; i <= n; i++)
                    {
                        total += await Square.InvokeAsync(i);
                    }

                    return total;
                });
            }
            """);
        await File.WriteAllTextAsync(Path.Combine(Root, "src", "app", "__init__.py"), "");
        await File.WriteAllTextAsync(Path.Combine(Root, "src", "app", "ops.py"), "def square(x: int) -> int:\n    return x * x\n");
        await File.WriteAllTextAsync(Path.Combine(Root, "flytesharp.toml"), $"""
            home = "home"
            root_dir = "src"

            [images]
            registry = "{_registry.Host}"
            name = "{Repository}"
            python_base = "{BaseImage.Reference}"
            builder = "podman"
            insecure_registries = ["{_registry.Host}"]
            """);
        await ProjectLoader.LoadAsync(Root, build: true, TestContext.Current.CancellationToken);
    }

    /// <summary>Runs the CLI in-process; the project argument is added by the caller.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await FlyteCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
