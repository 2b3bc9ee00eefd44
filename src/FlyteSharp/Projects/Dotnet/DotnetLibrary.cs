namespace FlyteSharp.Projects.Dotnet;

/// <summary>One library of a publish's deps.json: a NuGet <c>package</c> or one of the user's <c>project</c>s.</summary>
/// <param name="Name">Package id or assembly name.</param>
/// <param name="Version">Its version.</param>
/// <param name="Type"><c>package</c>, <c>project</c> or <c>reference</c>.</param>
/// <param name="Dependencies">Names of the libraries it depends on.</param>
/// <param name="Files">Its runtime files as publish lays them out (POSIX paths relative to the publish folder), sorted.</param>
internal sealed record DotnetLibrary(string Name, string Version, string Type, IReadOnlyList<string> Dependencies, IReadOnlyList<string> Files);
