namespace FlyteSharp.Images;

/// <summary>Installs Debian packages with apt (cache mounts keep downloads out of the image).</summary>
/// <param name="Packages">Package names, optionally with <c>=version</c>, in the order given.</param>
public sealed record AptPackagesLayer(IReadOnlyList<string> Packages) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        plan.Hash.Begin("apt");
        plan.Hash.Field("packages", Packages);
        plan.Hash.End();
        plan.Run(
            ["--mount=type=cache,target=/var/cache/apt,sharing=locked,id=flytesharp-apt-cache",
             "--mount=type=cache,target=/var/lib/apt/lists,sharing=locked,id=flytesharp-apt-lists"],
            "apt-get update \\\n && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends " + string.Join(' ', Packages));
    }
}
