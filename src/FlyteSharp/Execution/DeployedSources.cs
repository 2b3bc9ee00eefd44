using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Dotnet;

namespace FlyteSharp.Execution;

/// <summary>
/// What a run of a deployed version (<see cref="RunOptions.Version"/>) executes: the images recorded under the version
/// (Python code baked in) and each C# task's recorded code (assemblies baked into its image, or the .NET bundle stored at
/// deploy time). Nothing is built or bundled for such a run.
/// </summary>
/// <param name="Version">The deploy version.</param>
/// <param name="Images">The recorded image of each deployed environment.</param>
/// <param name="DotnetCode">The recorded code of each deployed C# task of a .NET environment.</param>
internal sealed record DeployedSources(string Version, IContainerImageSource Images, IDotnetCodeSource DotnetCode);
