namespace FlyteSharp.Building;

/// <summary>
/// Receives what image builds are doing while they do it: an image found in the registry (skipped), a build starting,
/// each builder step (<c>STEP 3/7: RUN …</c>), the push, the end. Pass one as <c>RunOptions.BuildProgress</c> (images a
/// container or kubernetes run builds on demand) or <c>DeployOptions.BuildProgress</c>.
/// </summary>
/// <remarks>
/// Called on the build's own thread, in order for one image; a run that needs several images may build them at once,
/// so an implementation must accept calls from several threads. It should return quickly: the builder's output waits.
/// </remarks>
public interface IImageBuildProgress
{
    /// <summary>One thing an image build did.</summary>
    /// <param name="update">The image, the stage reached, and the step or error that goes with it.</param>
    void Report(ImageBuildUpdate update);
}
