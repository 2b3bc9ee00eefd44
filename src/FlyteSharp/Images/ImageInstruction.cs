namespace FlyteSharp.Images;

/// <summary>
/// One instruction of a resolved image, in the order the layers applied them. The Dockerfile is rendered from these, and
/// the registry assembly (<c>Building.RegistryAssembly</c>) reads the same records, so the two cannot drift: a builder
/// runs exactly what the registry path would otherwise put together.
/// </summary>
internal abstract record ImageInstruction
{
    /// <summary>0-based index of the image layer (<see cref="ImageLayer"/>) that added it.</summary>
    public int Layer { get; init; }

    /// <summary>The Dockerfile text (one instruction, possibly with continuation lines), without the final newline.</summary>
    public abstract string Dockerfile { get; }

    /// <summary>True when only a builder can carry it out (FROM, RUN, USER, COPY of generated files …).</summary>
    public abstract bool NeedsBuilder { get; }
}
