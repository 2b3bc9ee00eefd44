namespace FlyteSharp.Images;

/// <summary>Environment variables (sorted by name, so insertion order does not change the tag).</summary>
/// <param name="Variables">Name/value pairs, sorted ordinally by name.</param>
public sealed record EnvVarsLayer(IReadOnlyList<KeyValuePair<string, string>> Variables) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        plan.Hash.Begin("env");
        foreach (var (name, value) in Variables)
        {
            plan.Hash.Field(name, value);
        }

        plan.Hash.End();
        plan.Env(Variables);
    }
}
