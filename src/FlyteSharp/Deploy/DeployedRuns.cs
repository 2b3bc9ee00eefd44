using FlyteSharp.Configuration;
using FlyteSharp.Execution;

namespace FlyteSharp.Deploy;

/// <summary>What a run of a deployed version executes in: the images and the C# code recorded under that version (no fresh bundle).</summary>
internal static class DeployedRuns
{
    /// <summary>The recorded images and .NET code the launcher runs a deployed version from.</summary>
    /// <exception cref="FlyteSharpException">An invalid version, or nothing is deployed under <paramref name="version"/> (the message lists what is).</exception>
    public static DeployedSources Open(FlyteConfig config, string version)
    {
        DeployVersion.Validate(version);
        var store = DeploymentStore.Open(config.EffectiveRunDatabase);
        var deployments = store.Get(version);
        if (deployments.Count == 0)
        {
            var versions = store.List().Select(d => d.Version).Distinct(StringComparer.Ordinal).ToList();
            var listed = versions.Count == 0 ? "nothing is deployed yet"
                : "deployed versions, newest first: " + string.Join(", ", versions.Take(20)) + (versions.Count > 20 ? $", … ({versions.Count} in all)" : "");
            throw new FlyteSharpException($"no deployment is recorded under version '{version}' (run database {config.EffectiveRunDatabase}); {listed}",
                fix: "run one of those versions, or deploy this one first (flytesharp deploy <project> --version …); flytesharp deploy <project> --list shows what is deployed");
        }

        return new DeployedSources(version, new DeployedImageSource(deployments, config), new DeployedDotnetCode(deployments));
    }
}
