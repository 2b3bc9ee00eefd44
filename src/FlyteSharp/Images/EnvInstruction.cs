namespace FlyteSharp.Images;

/// <summary>An <c>ENV</c> of literal values (no <c>$</c> expansion: the Dockerfile escapes it).</summary>
/// <param name="Variables">Name/value pairs in the order written.</param>
internal sealed record EnvInstruction(IReadOnlyList<KeyValuePair<string, string>> Variables) : ImageInstruction
{
    /// <inheritdoc/>
    public override string Dockerfile => "ENV " + string.Join(" \\\n    ", Variables.Select(v => $"{v.Key}={ImageBuildPlan.DockerQuote(v.Value)}"));

    /// <inheritdoc/>
    public override bool NeedsBuilder => false;
}
