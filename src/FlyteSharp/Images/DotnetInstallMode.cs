namespace FlyteSharp.Images;

/// <summary>What a .NET project layer (<see cref="Image.WithDotnetProject"/>) puts into the image.</summary>
public enum DotnetInstallMode
{
    /// <summary>
    /// Default: the runtime assets of the project's NuGet packages only (in <c>/opt/flytesharp/packages/</c>). The tag
    /// covers the restore inputs (project files, Directory.Build.props/.targets, Directory.Packages.props, NuGet.config,
    /// global.json, packages.lock.json), never a <c>.cs</c> file: editing code never rebuilds the image, changing a
    /// package version always does. Your own assemblies travel in the code bundle.
    /// </summary>
    DependenciesOnly = 0,

    /// <summary>
    /// The packages and your own projects' assemblies too (in <c>/opt/flytesharp/app/</c>); every file of the projects is
    /// part of the tag, so any code edit rebuilds the image. Full-build deploys (<see cref="CopyStyle.None"/>) resolve every
    /// .NET project layer this way.
    /// </summary>
    InstallProject = 1,
}
