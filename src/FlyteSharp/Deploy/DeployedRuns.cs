using FlyteSharp.Configuration;
using FlyteSharp.Execution.Containers;

namespace FlyteSharp.Deploy;

/// <summary>What a run of a deployed version executes in: the images recorded under that version (no code bundle).</summary>
internal static class DeployedRuns
{
    /// <summary>The image source the launcher runs a deployed version's Python tasks from.</summary>
    /// <exception cref="FlyteSharpException">Nothing is deployed under <paramref name="version"/>.</exception>
    public static IContainerImageSource ImageSource(FlyteConfig config, string version)
    {
        DeployVersion.Validate(version);
        var deployments = DeploymentStore.Open(config.EffectiveRunDatabase).Get(version);
        if (deployments.Count == 0)
        {
            throw new FlyteSharpException($"no deployment is recorded under version '{version}' (run database {config.EffectiveRunDatabase})",
                fix: "deploy it first (flytesharp deploy <project> --version …); flytesharp deploy <project> --list shows what is deployed");
        }

        return new DeployedImageSource(deployments, config);
    }
}
