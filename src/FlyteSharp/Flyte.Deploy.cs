using FlyteSharp.Deploy;
using FlyteSharp.Tasks;

namespace FlyteSharp;

// Production deploys (the seed's flyte.deploy(env, copy_style="none", version="1.2.3")), on the current runtime.
public static partial class Flyte
{
    /// <summary>
    /// Deploys <paramref name="environment"/> as a full build on <see cref="Runtime"/>; see
    /// <see cref="FlyteRuntime.Deploy(TaskEnvironment, CopyStyle, string?, DeployOptions?)"/>.
    /// </summary>
    /// <param name="environment">The environment to deploy.</param>
    /// <param name="copyStyle">Must be <see cref="CopyStyle.None"/>: deploys carry their code in the image.</param>
    /// <param name="version">Required: a version you can trace, ideally a git commit SHA or tag.</param>
    /// <param name="options">Build output, cancellation.</param>
    /// <returns>The recorded deployment.</returns>
    /// <exception cref="FlyteSharpException">No version, no <c>WithCodeBundle()</c>, no root_dir, or the build failed.</exception>
    public static Task<Deployment> Deploy(TaskEnvironment environment, CopyStyle copyStyle = CopyStyle.None, string? version = null, DeployOptions? options = null) =>
        Runtime.Deploy(environment, copyStyle, version, options);

    /// <summary>Deploys several environments under one version (one build per distinct image) on <see cref="Runtime"/>.</summary>
    /// <param name="environments">The environments to deploy.</param>
    /// <param name="copyStyle">Must be <see cref="CopyStyle.None"/>.</param>
    /// <param name="version">Required: a version you can trace, ideally a git commit SHA or tag.</param>
    /// <param name="options">Build output, cancellation.</param>
    /// <returns>One deployment per environment.</returns>
    /// <exception cref="FlyteSharpException">No version, no <c>WithCodeBundle()</c>, no root_dir, or a build failed.</exception>
    public static Task<IReadOnlyList<Deployment>> Deploy(IReadOnlyList<TaskEnvironment> environments, CopyStyle copyStyle = CopyStyle.None, string? version = null, DeployOptions? options = null) =>
        Runtime.Deploy(environments, copyStyle, version, options);

    /// <summary>The deployments recorded under <paramref name="version"/> in <see cref="Runtime"/>'s run database (empty when none).</summary>
    /// <param name="version">The deploy version.</param>
    public static IReadOnlyList<Deployment> Deployments(string version) => Runtime.Deployments(version);
}
