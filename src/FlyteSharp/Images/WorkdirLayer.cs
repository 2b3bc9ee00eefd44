namespace FlyteSharp.Images;

/// <summary>Sets the working directory (an absolute POSIX path).</summary>
/// <param name="Path">E.g. <c>/app</c>.</param>
public sealed record WorkdirLayer(string Path) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        plan.Hash.Begin("workdir");
        plan.Hash.Field("path", Path);
        plan.Hash.End();
        plan.SetWorkdir(Path);
    }
}
