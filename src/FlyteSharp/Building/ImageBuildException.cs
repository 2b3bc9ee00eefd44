namespace FlyteSharp.Building;

/// <summary>
/// An image build or push failed. The message carries the builder's own error and, when it can
/// be told, the Dockerfile line that failed.
/// </summary>
public sealed class ImageBuildException : FlyteSharpException
{
    /// <summary>Creates the error.</summary>
    /// <param name="reason">What failed.</param>
    /// <param name="dockerfile">The Dockerfile built.</param>
    /// <param name="dockerfileLine">The 1-based line of the failing instruction, if known.</param>
    /// <param name="instruction">The failing instruction's text, if known.</param>
    /// <param name="builderOutput">Everything the builder printed.</param>
    /// <param name="fix">What to do about it.</param>
    public ImageBuildException(string reason, string? dockerfile, int? dockerfileLine, string? instruction, string builderOutput, string? fix = null)
        : base(reason, dockerfile, dockerfileLine, fix)
    {
        Instruction = instruction;
        BuilderOutput = builderOutput;
    }

    /// <summary>The failing Dockerfile instruction, e.g. <c>RUN apt-get install -y nope</c>, if known.</summary>
    public string? Instruction { get; }

    /// <summary>Everything the builder printed.</summary>
    public string BuilderOutput { get; }
}
