using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Deploy;

/// <summary>
/// The code of a deployed version's C# tasks, as recorded at deploy time (<see cref="DeployedTask.Assembly"/>,
/// <see cref="DeployedTask.BundleDigest"/>): the assemblies baked into the version's image, or the .NET bundle stored
/// then. Never the project's current build: a run of a version runs the deployed code.
/// </summary>
internal sealed class DeployedDotnetCode(IReadOnlyList<Deployment> deployments) : IDotnetCodeSource
{
    public Task<DotnetTaskCode> CodeForAsync(TaskDefinition task, CancellationToken cancellationToken)
    {
        var version = deployments[0].Version;
        var deployment = deployments.FirstOrDefault(d => d.Environment == task.Environment.Name)
            ?? throw new FlyteSharpException(
                $"version {version} has no deployment of environment '{task.Environment.Name}' (it has: {string.Join(", ", deployments.Select(d => d.Environment))})",
                fix: $"deploy that environment under this version (flytesharp deploy … --version {version} --env {task.Environment.Name})");
        var deployed = deployment.Tasks.FirstOrDefault(t => t.Name == task.Name && t.Kind == TaskKind.CSharp);
        if (deployed is null)
        {
            var known = deployment.Tasks.Where(t => t.Kind == TaskKind.CSharp).Select(t => t.Name).ToList();
            throw new FlyteSharpException(
                $"version {version} of environment '{deployment.Environment}' has no C# task '{task.Name}' (deployed C# tasks: {(known.Count == 0 ? "none" : string.Join(", ", known))})",
                fix: $"deploy the current code under a new version, or run a task the version has");
        }

        if (deployed.Assembly is null)
        {
            // Deployed before C# tasks could leave the driver: nothing says where their code is.
            throw new FlyteSharpException(
                $"version {version} of environment '{deployment.Environment}' recorded no code for C# task '{task.Name}' (it was deployed before deploys recorded .NET code)",
                fix: "deploy it again under a new version");
        }

        if (deployed.BundleUri is { } uri && uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase) && !File.Exists(new Uri(uri).LocalPath))
        {
            throw new FlyteSharpException(
                $"the .NET bundle {deployed.BundleDigest} of C# task '{task.Name}' (version {version}) is no longer in the store where the deploy put it",
                new Uri(uri).LocalPath,
                fix: "restore the store, or deploy the code again under a new version");
        }

        return Task.FromResult(deployed.BundleDigest is { } digest
            ? new DotnetTaskCode(deployed.Assembly, digest, deployed.BundleUri, null, $".NET bundle {digest} of version {version} ({deployed.Assembly})")
            : new DotnetTaskCode(deployed.Assembly, null, null, null, $"assemblies of version {version} baked into the image ({DotnetWorkerCommand.AppDirectory}/{deployed.Assembly})"));
    }
}
