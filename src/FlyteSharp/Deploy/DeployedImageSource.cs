using FlyteSharp.Building;
using FlyteSharp.Configuration;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Deploy;

/// <summary>
/// The images of a deployed version: each environment runs the image recorded at deploy time, whose Python code
/// is baked in (no bundle is fetched; a C#-only .NET environment has no Python code directory). Nothing is built.
/// </summary>
internal sealed class DeployedImageSource(IReadOnlyList<Deployment> deployments, FlyteConfig config) : IContainerImageSource
{
    private readonly Lazy<Task<string>> _runtime = new(async () => (await ImageBuilders.CreateAsync(config)).Name);

    public Task<string> RuntimeAsync(CancellationToken cancellationToken) => _runtime.Value.WaitAsync(cancellationToken);

    public Task<ContainerImage> GetAsync(TaskEnvironment environment, CancellationToken cancellationToken)
    {
        var deployment = deployments.FirstOrDefault(d => d.Environment == environment.Name)
            ?? throw new FlyteSharpException(
                $"version {deployments[0].Version} has no deployment of environment '{environment.Name}' (it has: {string.Join(", ", deployments.Select(d => d.Environment))})",
                fix: $"deploy that environment under this version (flytesharp deploy … --version {deployments[0].Version} --env {environment.Name})");
        var registry = deployment.ImageUri[..deployment.ImageUri.IndexOf('/', StringComparison.Ordinal)];
        return Task.FromResult(new ContainerImage(
            deployment.ImageUri,
            deployment.Entry.Split(' ')[0], // the entry starts with the image's interpreter
            PythonRunnerScript.ImagePath,
            // Null only for a C#-only .NET environment: no Python task runs in it (the deploy refuses one without WithCodeBundle()).
            deployment.CodeDirectory,
            RegistryTagProbe.IsInsecure(registry, config))
        {
            // The full build copied root_dir to the code directory, so the workspace's import roots (recorded in the
            // entry at deploy time) sit at the same relative places.
            ImportPaths = RecordedImportPaths(deployment.Entry),
        });
    }

    private static List<string> RecordedImportPaths(string entry)
    {
        var tokens = entry.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return tokens.Select((t, i) => (t, i)).Where(x => x.t == "--path" && x.i + 1 < tokens.Length).Select(x => tokens[x.i + 1]).ToList();
    }
}
