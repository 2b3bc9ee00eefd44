namespace FlyteSharp.Execution.Dotnet;

/// <summary>Where the .NET worker gets one C# task's code: a .NET bundle in the store, or the assemblies baked into the image.</summary>
/// <param name="AssemblyFile">The entry assembly's file name (e.g. <c>App.dll</c>) inside the bundle or <c>/opt/flytesharp/app</c>.</param>
/// <param name="BundleDigest">The .NET bundle's digest; null when the code is baked into the image (a full-build deploy).</param>
/// <param name="BundleUri">The bundle's blob URI in the store; null when baked.</param>
/// <param name="ArchivePath">The bundle's archive on this machine, when there is one (a container can mount it without a store); else null.</param>
/// <param name="Description">What the run's log says about the code, e.g. <c>.NET bundle sha256:… (3 files from App.dll)</c>.</param>
internal sealed record DotnetTaskCode(string AssemblyFile, string? BundleDigest, string? BundleUri, string? ArchivePath, string Description)
{
    /// <summary>The code is in the image (<c>/opt/flytesharp/app</c>): nothing is fetched.</summary>
    public bool InImage => BundleDigest is null;
}
