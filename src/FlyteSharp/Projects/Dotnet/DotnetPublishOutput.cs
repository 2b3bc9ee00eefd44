namespace FlyteSharp.Projects.Dotnet;

/// <summary>A finished host publish: its folder and the libraries of its deps.json.</summary>
/// <param name="Directory">The publish folder.</param>
/// <param name="Deps">The root project's deps.json.</param>
internal sealed record DotnetPublishOutput(string Directory, DepsJson Deps);
