using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>
/// Where the C# tasks of a run get their code in a container or pod: a fresh run's .NET bundle made from the build output
/// (<see cref="DotnetRunBundles"/>), or what a deployed version recorded (its stored bundle, or assemblies baked into its image).
/// </summary>
internal interface IDotnetCodeSource
{
    /// <summary>The code that runs <paramref name="task"/>'s body, checked against its environment's image.</summary>
    /// <exception cref="FlyteSharpException">There is no usable code for the task (not bundled, not deployed, wrong framework).</exception>
    Task<DotnetTaskCode> CodeForAsync(TaskDefinition task, CancellationToken cancellationToken);
}
