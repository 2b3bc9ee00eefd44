namespace FlyteSharp.Images;

/// <summary>
/// One immutable layer of an <see cref="Image"/>. Each layer contributes to the image tag (canonically
/// serialized, including the bytes of the files it reads) and to the rendered Dockerfile.
/// </summary>
public abstract record ImageLayer
{
    private protected ImageLayer()
    {
    }

    /// <summary>Adds this layer's identity, Dockerfile lines and build-context files to the plan.</summary>
    internal abstract void Apply(ImageBuildPlan plan);
}
