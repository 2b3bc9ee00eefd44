using FlyteSharp.Configuration;
using FlyteSharp.Execution.Dotnet;
using FlyteSharp.Projects.Dotnet;
using FlyteSharp.Tasks;

namespace FlyteSharp.Deploy;

/// <summary>
/// Where the C# tasks of a deployed .NET environment (<c>Image.FromDotnetBase</c>) get their code when the version runs:
/// with <c>WithDotnetProject</c> the full build bakes the project's assemblies into <c>/opt/flytesharp/app</c> (nothing is
/// uploaded); without it the deploy stores the .NET code bundle of each task's assembly, content-addressed, and records
/// its digest. Other environments' C# tasks run in the driver and record nothing.
/// </summary>
internal static class DeployedDotnetTasks
{
    /// <summary>The C# tasks of <paramref name="environment"/> with their recorded code; empty when it has no .NET image.</summary>
    /// <exception cref="FlyteSharpException">A task's body is not in the baked project, or its bundle cannot be made.</exception>
    public static async Task<IReadOnlyList<DeployedTask>> ForAsync(TaskEnvironment environment, FlyteConfig config, CancellationToken cancellationToken)
    {
        var tasks = environment.Tasks.Where(t => t.Kind == TaskKind.CSharp).ToList();
        if (!environment.Image.HasDotnetWorker || tasks.Count == 0)
        {
            return [];
        }

        var result = new List<DeployedTask>();
        if (environment.Image.DotnetProject is { } project)
        {
            var root = DotnetProjectGraph.Load(project.ProjectFile).Root;
            foreach (var task in tasks)
            {
                var assembly = task.Body?.Method.Module.Assembly.GetName().Name;
                if (!string.Equals(assembly, root.AssemblyName, StringComparison.Ordinal))
                {
                    throw new FlyteSharpException(
                        $"task '{task.Name}' of environment '{environment.Name}' is in assembly {assembly ?? "(none)"}, but the full build bakes project '{root.Name}' " +
                        $"(assembly {root.AssemblyName}) into the image, and the worker loads the task from that assembly",
                        project.ProjectFile,
                        fix: $"point WithDotnetProject at the project that declares task '{task.Name}' (its ProjectReferences come along)");
                }

                result.Add(new DeployedTask(task.Name, task.Kind, null) { Assembly = root.AssemblyName + ".dll" });
            }

            return result;
        }

        var bundles = new DotnetRunBundles(config);
        foreach (var task in tasks)
        {
            var code = await bundles.CodeForAsync(task, cancellationToken).ConfigureAwait(false);
            result.Add(new DeployedTask(task.Name, task.Kind, null) { Assembly = code.AssemblyFile, BundleDigest = code.BundleDigest, BundleUri = code.BundleUri });
        }

        return result;
    }

    /// <summary>
    /// A version always means the same code: an environment already deployed under it must get the same .NET bundles (its
    /// image tag does not cover code that travels as a bundle, so the image check alone would miss a C# edit).
    /// </summary>
    /// <exception cref="FlyteSharpException">A task's recorded bundle differs from the one this deploy made.</exception>
    public static void EnsureSameCode(Deployment? existing, IReadOnlyList<DeployedTask> tasks)
    {
        if (existing is null)
        {
            return;
        }

        foreach (var task in tasks)
        {
            var recorded = existing.Tasks.FirstOrDefault(t => t.Name == task.Name);
            if (recorded is not null && (!string.Equals(recorded.BundleDigest, task.BundleDigest, StringComparison.Ordinal) || recorded.Assembly != task.Assembly))
            {
                static string Where(DeployedTask t) => t.Assembly is null ? "no recorded .NET code" : t.BundleDigest is { } d ? $".NET bundle {d}" : $"{t.Assembly} baked into the image";
                throw new FlyteSharpException(
                    $"version {existing.Version} of environment '{existing.Environment}' is already deployed with task '{task.Name}' from {Where(recorded)}; " +
                    $"this deploy would make it {Where(task)}",
                    fix: "deploy under a new version (a version must always mean the same code), e.g. the current git SHA");
            }
        }
    }
}
