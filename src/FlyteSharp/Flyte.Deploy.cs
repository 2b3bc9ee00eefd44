using FlyteSharp.Deploy;
using FlyteSharp.Tasks;

namespace FlyteSharp;

// Production deploys (the seed's flyte.deploy(env, copy_style="none", version="1.2.3")).
public static partial class Flyte
{
    /// <summary>
    /// Deploys <paramref name="environment"/> as a full build: its image's <c>WithCodeBundle()</c> becomes a
    /// <c>COPY</c> of the code bundle's files, the image is built and pushed (skipped when the registry has
    /// the tag), and the deployment is recorded under <paramref name="version"/>. Nothing is uploaded as a bundle.
    /// Run it later with <c>RunOptions.Version</c> (or <c>flytesharp run … --version</c>).
    /// </summary>
    /// <param name="environment">The environment to deploy.</param>
    /// <param name="copyStyle">Must be <see cref="CopyStyle.None"/>: deploys carry their code in the image.</param>
    /// <param name="version">Required: a version you can trace, ideally a git commit SHA or tag.</param>
    /// <param name="options">Settings, root_dir, build output, cancellation.</param>
    /// <returns>The recorded deployment.</returns>
    /// <exception cref="FlyteSharpException">No version, no <c>WithCodeBundle()</c>, no root_dir, or the build failed.</exception>
    public static async Task<Deployment> Deploy(TaskEnvironment environment, CopyStyle copyStyle = CopyStyle.None, string? version = null, DeployOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return (await Deploy([environment], copyStyle, version, options).ConfigureAwait(false))[0];
    }

    /// <summary>Deploys several environments under one version (one build per distinct image).</summary>
    /// <param name="environments">The environments to deploy.</param>
    /// <param name="copyStyle">Must be <see cref="CopyStyle.None"/>.</param>
    /// <param name="version">Required: a version you can trace, ideally a git commit SHA or tag.</param>
    /// <param name="options">Settings, root_dir, build output, cancellation.</param>
    /// <returns>One deployment per environment.</returns>
    /// <exception cref="FlyteSharpException">No version, no <c>WithCodeBundle()</c>, no root_dir, or a build failed.</exception>
    public static Task<IReadOnlyList<Deployment>> Deploy(IReadOnlyList<TaskEnvironment> environments, CopyStyle copyStyle = CopyStyle.None, string? version = null, DeployOptions? options = null)
    {
        options ??= new DeployOptions();
        var config = options.Config ?? CurrentConfig;
        var rootDir = options.RootDir is { } r ? Path.GetFullPath(r) : options.Config is null ? CurrentRootDir ?? config.RootDir : config.RootDir;
        return Deployer.DeployAsync(environments, copyStyle, version, config, rootDir, output: options.BuildOutput, cancellationToken: options.CancellationToken);
    }

    /// <summary>The deployments recorded under <paramref name="version"/>, one per environment (empty when none).</summary>
    /// <param name="version">The deploy version.</param>
    /// <param name="config">Settings (the run database); default: the initialized configuration.</param>
    public static IReadOnlyList<Deployment> Deployments(string version, Configuration.FlyteConfig? config = null) =>
        DeploymentStore.Open((config ?? CurrentConfig).EffectiveRunDatabase).Get(version);
}
