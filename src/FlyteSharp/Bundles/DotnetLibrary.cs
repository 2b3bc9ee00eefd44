namespace FlyteSharp.Bundles;

/// <summary>One library of a deps.json runtime target.</summary>
/// <param name="Name">Its name, e.g. <c>Newtonsoft.Json</c>.</param>
/// <param name="Version">Its version as restored, e.g. <c>13.0.3</c>.</param>
/// <param name="Type"><c>project</c> (the user's own), <c>package</c> (NuGet) or another kind.</param>
/// <param name="RuntimeFiles">Runtime assets: for a project, file names next to the entry assembly; for a package, paths inside the package.</param>
/// <param name="ResourceFiles">Satellite assemblies (<c>de/App.resources.dll</c> for a project).</param>
internal sealed record DotnetLibrary(string Name, string Version, string Type, IReadOnlyList<string> RuntimeFiles, IReadOnlyList<string> ResourceFiles)
{
    /// <summary>True for one of the user's own projects.</summary>
    public bool IsProject => Type == "project";

    /// <summary>True for a NuGet package.</summary>
    public bool IsPackage => Type == "package";
}
