namespace FlyteSharp.Images;

/// <summary>
/// An image whose base is your own Dockerfile. The Dockerfile's folder is its build context: its files
/// (filtered by its <c>.dockerignore</c> and the standard ignores) are hashed into the tag and copied
/// into the context. FlyteSharp's venv and runner are added after your last instruction, so the image
/// must have <c>python3</c>.
/// </summary>
/// <param name="DockerfilePath">Full path of the Dockerfile.</param>
public sealed record DockerfileBaseLayer(string DockerfilePath) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        var dir = Path.GetDirectoryName(DockerfilePath)!;
        var files = FileSelector.Select(dir, plan.Ignore);
        if (files.FirstOrDefault(f => f.RelativePath == ImageBuildPlan.ContextPrefix || f.RelativePath.StartsWith(ImageBuildPlan.ContextPrefix + "/", StringComparison.Ordinal)) is { } clash)
        {
            throw new FlyteSharpException($"the Dockerfile's folder contains '{clash.RelativePath}'; FlyteSharp reserves '{ImageBuildPlan.ContextPrefix}/' in build contexts", clash.FullPath,
                fix: $"rename it, or exclude it in {dir}/.dockerignore");
        }

        plan.Hash.Begin("dockerfile");
        plan.Hash.Field("dockerfile", Path.GetRelativePath(dir, DockerfilePath).Replace('\\', '/'));
        plan.Hash.Files("context", files, plan.Cache);
        var dockerfile = Path.GetRelativePath(dir, DockerfilePath).Replace('\\', '/');
        foreach (var f in files.Where(f => f.RelativePath != dockerfile))
        {
            if (f.RelativePath == "Dockerfile")
            {
                throw new FlyteSharpException("the Dockerfile's folder has another file named 'Dockerfile'; FlyteSharp writes its own Dockerfile at the context root", f.FullPath,
                    fix: "rename one of them, or exclude it in .dockerignore");
            }

            plan.AddFile(f.RelativePath, f.FullPath, f.Executable, f.IsRealPath);
        }

        plan.Line($"# base: {Path.GetFileName(DockerfilePath)}");
        foreach (var line in File.ReadAllLines(DockerfilePath))
        {
            plan.Line(line);
        }

        plan.Line("# FlyteSharp: venv and runner");
        BaseImageLayer.PythonPrelude(plan, createVenv: true);
        plan.Hash.End();
    }
}
