using FlyteSharp.Bundles;

namespace FlyteSharp.Images;

/// <summary>
/// The seed's <c>with_code_bundle()</c>: one image definition for development and production. In fast deploy
/// (<see cref="CopyStyle.All"/>) it is a no-op — it adds nothing to the tag or the Dockerfile and the code
/// travels as a per-run bundle. In full build (<see cref="CopyStyle.None"/>) it becomes a <c>COPY</c> of exactly
/// the code bundle's files (<see cref="BundleFiles.Select"/> under root_dir), which are then part of the tag.
/// </summary>
/// <param name="Destination">Where the code lands in the image; relative paths are taken from the working directory (default <c>.</c>, i.e. <c>/root</c>).</param>
public sealed record CodeBundleLayer(string Destination) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        if (plan.Options.CopyStyle == CopyStyle.All)
        {
            return;
        }

        var rootDir = plan.Config.RootDir
            ?? throw new FlyteSharpException("a full build (CopyStyle.None) bakes the code bundle into the image, but no root_dir is set",
                plan.Config.SourceFile, fix: "set root_dir in flytesharp.toml, pass --root-dir, or resolve with a FlyteConfig whose RootDir is set");
        var files = BundleFiles.SelectWithStat(rootDir).ConvertAll(f => new SelectedFile(f.File.RelativePath, f.File.FullPath, f.File.Executable, f.Stat));
        var destination = plan.InImage(Destination);
        plan.Hash.Begin("code-bundle");
        plan.Hash.Field("destination", destination);
        plan.Hash.Files("files", files, plan.Cache);
        plan.Hash.End();
        plan.CodeDirectory = destination;
        plan.Line("# code bundle (full build)");
        if (files.Count == 0)
        {
            plan.Line($"RUN mkdir -p {destination}");
            return;
        }

        plan.CopyFolder(plan.LayerDirectory("code"), destination, files);
    }
}
