namespace FlyteSharp.Images;

/// <summary>
/// Copies a local folder into the image (the seed's <c>with_source_folder</c>): every file's path and bytes
/// are part of the tag, so editing the folder rebuilds the image. Use it for libraries that are not
/// under the code bundle's root (seed Pattern B's <c>my_lib</c>), not for your own task code.
/// </summary>
/// <param name="Source">Full path of the folder on this machine.</param>
/// <param name="Destination">Where its contents land in the image; relative paths are taken from the working directory.
/// Null means <c>./{folder name}</c> (e.g. <c>/root/my_lib</c>).</param>
public sealed record SourceFolderLayer(string Source, string? Destination) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        if (!Directory.Exists(Source))
        {
            throw new FlyteSharpException("source folder does not exist (any more)", Source, fix: "create it or fix the path given to WithSourceFolder");
        }

        var files = FileSelector.Select(Source, plan.Ignore);
        var destination = plan.InImage(Destination ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Source)));
        plan.Hash.Begin("source-folder");
        plan.Hash.Field("destination", destination);
        plan.Hash.Files("files", files, plan.Cache);
        plan.Hash.End();
        var contextDir = plan.LayerDirectory("source");
        plan.AddFiles(contextDir, files);

        if (files.Count == 0)
        {
            plan.Line($"RUN mkdir -p {destination}");
            return;
        }

        plan.Line($"COPY {contextDir}/ {destination}/");
    }
}
