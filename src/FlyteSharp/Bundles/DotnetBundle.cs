namespace FlyteSharp.Bundles;

/// <summary>A .NET code bundle: the build output of the user's own projects, as a deterministic archive.</summary>
/// <param name="Digest">The archive's <c>sha256:…</c> digest.</param>
/// <param name="ArchivePath">The archive in the local bundle cache.</param>
/// <param name="EntryAssembly">The entry assembly's file name at the bundle's root, e.g. <c>App.dll</c>.</param>
/// <param name="Files">The bundle's files (POSIX paths relative to its root, ordinal order).</param>
/// <param name="FrameworkVersion">The .NET version the entry assembly targets (from its deps.json), when it names one.</param>
internal sealed record DotnetBundle(string Digest, string ArchivePath, string EntryAssembly, IReadOnlyList<string> Files, Version? FrameworkVersion);
