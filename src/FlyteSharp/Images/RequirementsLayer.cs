namespace FlyteSharp.Images;

/// <summary>Installs a <c>requirements.txt</c> into the venv; the file's bytes are part of the tag.</summary>
/// <param name="File">Full path of the requirements file.</param>
public sealed record RequirementsLayer(string File) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        var name = Path.GetFileName(File);
        plan.Hash.Begin("requirements");
        plan.Hash.File(name, false, plan.Cache.Sha256(File));
        plan.Hash.End();
        var contextPath = plan.LayerDirectory("requirements") + "/" + name;
        plan.AddFile(contextPath, File, false);
        var target = $"/tmp/flytesharp/requirements-{plan.LayerIndex}.txt";
        plan.Run([plan.UvMount, ImageBuildPlan.UvCacheMount, $"--mount=type=bind,source={contextPath},target={target}"],
            string.Join(' ', PipPackagesLayer.PipArgs(plan, null, [], false).Select(ImageBuildPlan.ShellQuote)) + " -r " + target);
    }
}
