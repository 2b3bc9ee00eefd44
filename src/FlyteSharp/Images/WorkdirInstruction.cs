namespace FlyteSharp.Images;

/// <summary>A <c>WORKDIR</c> (an absolute path; created when the image lacks it).</summary>
/// <param name="Path">The working directory.</param>
internal sealed record WorkdirInstruction(string Path) : ImageInstruction
{
    /// <inheritdoc/>
    public override string Dockerfile => "WORKDIR " + Path;

    /// <inheritdoc/>
    public override bool NeedsBuilder => false;
}
