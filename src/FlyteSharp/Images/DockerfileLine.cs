namespace FlyteSharp.Images;

/// <summary>A Dockerfile line only a builder can carry out (FROM, RUN, USER, COPY of generated or base files), or a comment.</summary>
/// <param name="Text">The line as written, continuation lines included.</param>
internal sealed record DockerfileLine(string Text) : ImageInstruction
{
    /// <inheritdoc/>
    public override string Dockerfile => Text;

    /// <inheritdoc/>
    public override bool NeedsBuilder => !Text.StartsWith('#');
}
