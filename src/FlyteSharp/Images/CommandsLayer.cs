namespace FlyteSharp.Images;

/// <summary>Shell commands, one <c>RUN</c> each; the command text is part of the tag.</summary>
/// <param name="Commands">The commands, run in order with <c>/bin/sh -c</c>.</param>
public sealed record CommandsLayer(IReadOnlyList<string> Commands) : ImageLayer
{
    internal override void Apply(ImageBuildPlan plan)
    {
        plan.Hash.Begin("commands");
        plan.Hash.Field("commands", Commands);
        plan.Hash.End();
        foreach (var command in Commands)
        {
            plan.Line("RUN " + command);
        }
    }
}
