namespace FlyteSharp.Projects.Dotnet;

/// <summary>One library of a build or publish output's deps.json: a NuGet <c>package</c> or one of the user's <c>project</c>s.</summary>
/// <param name="Name">Package id or assembly name.</param>
/// <param name="Version">Its version.</param>
/// <param name="Type"><c>package</c>, <c>project</c> or <c>reference</c>.</param>
/// <param name="Dependencies">Names of the libraries it depends on.</param>
/// <param name="Files">Its runtime files as build and publish lay them out (POSIX paths relative to the output folder), sorted.</param>
internal sealed record DotnetLibrary(string Name, string Version, string Type, IReadOnlyList<string> Dependencies, IReadOnlyList<string> Files)
{
    /// <summary>True for one of the user's own projects.</summary>
    public bool IsProject => Type == "project";

    /// <summary>True for a NuGet package.</summary>
    public bool IsPackage => Type == "package";
}
