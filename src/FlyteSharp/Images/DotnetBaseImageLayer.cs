using FlyteSharp.Runner;

namespace FlyteSharp.Images;

/// <summary>
/// The first layer of a .NET image: the configured .NET runtime base (<c>[images] dotnet_base</c>, <c>{version}</c>
/// replaced) and FlyteSharp's .NET worker copied to <c>/opt/flytesharp/worker/</c>. The worker's files are part of the
/// tag, as the Python runner's bytes are: a new FlyteSharp makes a new image, a code edit does not.
/// </summary>
/// <param name="DotnetVersion">The .NET version, e.g. <c>10.0</c>.</param>
public sealed record DotnetBaseImageLayer(string DotnetVersion) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        var uri = BaseUri(plan.Config.DotnetBaseImage, DotnetVersion);
        var worker = DotnetWorkerFiles.Locate(plan.Config);
        plan.Hash.Begin("dotnet-base");
        plan.Hash.Field("image", uri);
        plan.Hash.Field("dotnet", DotnetVersion);
        plan.Line($"FROM {uri}");
        plan.Line("USER root");
        var contextRoot = $"{ImageBuildPlan.ContextPrefix}/worker";
        foreach (var (relative, full) in DotnetWorkerFiles.List(worker))
        {
            plan.Hash.File("worker/" + relative, false, plan.Cache.Sha256(full));
            plan.AddFile($"{contextRoot}/{relative}", full, false);
        }

        plan.Line($"COPY {contextRoot}/ {DotnetWorkerCommand.ImageDirectory}/");
        plan.Line("ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \\\n    DOTNET_NOLOGO=1");
        plan.SetWorkdir("/root");
        plan.Hash.End();
    }

    /// <summary>The base image reference for <paramref name="version"/>: <c>{version}</c> in the configured base replaced, or the base as configured.</summary>
    internal static string BaseUri(string configured, string version) => configured.Replace("{version}", version, StringComparison.Ordinal);
}
