namespace FlyteSharp.Images;

/// <summary>Copies one local file into the image; its name and bytes are part of the tag.</summary>
/// <param name="Source">Full path of the file on this machine.</param>
/// <param name="Destination">Its path in the image; relative paths are taken from the working directory.
/// Null means <c>./{file name}</c>.</param>
public sealed record SourceFileLayer(string Source, string? Destination) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        if (!File.Exists(Source))
        {
            throw new FlyteSharpException("source file does not exist (any more)", Source, fix: "create it or fix the path given to WithSourceFile");
        }

        var name = Path.GetFileName(Source);
        var destination = plan.InImage(Destination ?? name);
        var executable = FileSelector.IsExecutable(Source);
        plan.Hash.Begin("source-file");
        plan.Hash.Field("destination", destination);
        plan.Hash.File(name, executable, plan.Cache.Sha256(Source));
        plan.Hash.End();
        var contextPath = plan.LayerDirectory("file") + "/" + name;
        plan.CopyFile(contextPath, destination, Source, executable);
    }
}
