using FlyteSharp.Projects.Dotnet;

namespace FlyteSharp.Images;

/// <summary>
/// The user's own assemblies of a <see cref="DotnetProjectLayer"/>'s project in <c>/opt/flytesharp/app/</c>, when the
/// image holds them: with <see cref="DotnetInstallMode.InstallProject"/>, or in a full build (<see cref="CopyStyle.None"/>,
/// which bakes the code in whatever the mode says). Otherwise it adds nothing to the tag or the Dockerfile and the
/// assemblies travel in the .NET code bundle. Added by <see cref="Image.WithDotnetProject"/> right after the project's
/// layer, and a layer of its own for one reason: a <c>.cs</c> edit changes only this layer, so the image below it keeps
/// its tag and a deploy can put the new assemblies on top through the registry API, without a builder.
/// </summary>
public sealed record DotnetAssembliesLayer : ImageLayer
{
    internal DotnetAssembliesLayer(DotnetProjectLayer project) => Project = project;

    /// <summary>The project whose assemblies these are.</summary>
    public DotnetProjectLayer Project { get; }

    internal override void Apply(ImageBuildPlan plan)
    {
        if (plan.Options.CopyStyle != CopyStyle.None && Project.InstallMode == DotnetInstallMode.DependenciesOnly)
        {
            return;
        }

        var graph = DotnetProjectGraph.Load(Project.ProjectFile);
        var files = DotnetProjectLayer.Files(plan, graph, withSources: true, out var rel);
        plan.Hash.Begin("dotnet-assemblies");
        plan.Hash.Field("project", rel(graph.Root.File));
        plan.Hash.Field("publish", DotnetPublisher.Arguments(graph, "{output}", "{artifacts}").Skip(2).ToList());
        plan.Hash.Field("worker-library", DotnetProjectLayer.WorkerLibrary);
        plan.Hash.Files("files", files, plan.Cache);
        plan.Hash.End();

        plan.Line($"# .NET assemblies of '{DotnetProjectLayer.Printable(graph.Root.Name)}' (built on the host; every code edit changes this layer only)");
        plan.CopyGenerated(plan.LayerDirectory("dotnet-app"), DotnetImageLayout.App, Project.WriteAssembliesAsync);
    }
}
