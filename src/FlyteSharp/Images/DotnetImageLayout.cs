namespace FlyteSharp.Images;

/// <summary>Where the .NET parts of an image live (shared by the image layers and the .NET worker).</summary>
internal static class DotnetImageLayout
{
    /// <summary>The NuGet dependency layer: the packages' runtime assets as <c>dotnet publish</c> lays them out.</summary>
    public const string Packages = Runner.DotnetWorkerCommand.PackagesDirectory;

    /// <summary>The user's own assemblies, baked in by <see cref="DotnetInstallMode.InstallProject"/> and full builds.</summary>
    public const string App = Runner.DotnetWorkerCommand.AppDirectory;

    /// <summary>The manifest of the dependency layer, in <see cref="Packages"/>: every package's name, version and files.</summary>
    public const string PackagesManifest = Runner.DotnetWorkerCommand.PackagesManifestFileName;
}
