using FlyteSharp.Files;

namespace FlyteSharp.Images;

/// <summary>
/// A <c>.dockerignore</c> file whose rules (Docker's pattern semantics) filter every folder this image copies:
/// source folders, the project in <see cref="UvInstallMode.InstallProject"/> and path dependencies (not the code bundle, which has its own ignore rules).
/// Its bytes are part of the tag. Adds no Dockerfile instruction.
/// </summary>
/// <param name="File">Full path of the ignore file.</param>
public sealed record DockerignoreLayer(string File) : ImageLayer
{
    internal DockerIgnore Rules() => DockerIgnore.Parse(System.IO.File.ReadAllLines(File), File);

    internal override void Apply(ImageBuildPlan plan)
    {
        plan.Hash.Begin("dockerignore");
        plan.Hash.File(".dockerignore", false, plan.Cache.Sha256(File));
        plan.Hash.End();
    }
}
