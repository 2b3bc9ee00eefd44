using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;

namespace FlyteSharp.Deploy;

/// <summary>Prepares a run of a deployed version: container execution in the recorded images, no code bundle.</summary>
internal static class DeployedRuns
{
    /// <exception cref="FlyteSharpException">Nothing is deployed under <paramref name="version"/>.</exception>
    public static PythonRuntime Prepare(string runName, string sandboxDirectory, FlyteConfig config, string version, Execution.Secrets.RunSecrets? secrets = null)
    {
        DeployVersion.Validate(version);
        var deployments = DeploymentStore.Open(config.EffectiveRunDatabase).Get(version);
        if (deployments.Count == 0)
        {
            throw new FlyteSharpException($"no deployment is recorded under version '{version}' (run database {config.EffectiveRunDatabase})",
                fix: "deploy it first (flytesharp deploy <project> --version …); flytesharp deploy <project> --list shows what is deployed");
        }

        // No bundle: the digest is empty and nothing is extracted; the executor runs from each image's code directory.
        var bundle = new PythonBundle("", null, null, sandboxDirectory);
        var context = new PythonExecutorContext(runName, sandboxDirectory, bundle, config, null) { Secrets = secrets ?? new(config) };
        return new PythonRuntime(bundle, new ContainerPythonExecutor(context, new DeployedImageSource(deployments, config)), null);
    }
}
