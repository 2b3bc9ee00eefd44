namespace FlyteSharp.Projects.Dotnet;

/// <summary>A <c>PackageReference</c> of a project, with the version restore asks for and where it was declared.</summary>
/// <param name="Name">The package id, as written.</param>
/// <param name="Version">The requested version (its own <c>Version</c>/<c>VersionOverride</c>, or the central
/// <c>PackageVersion</c> of Directory.Packages.props), or null when none is declared.</param>
/// <param name="File">The file that declares the reference.</param>
/// <param name="Line">Its 1-based line.</param>
internal sealed record DotnetPackageReference(string Name, string? Version, string File, int Line);
