namespace FlyteSharp.Execution.Python;

/// <summary>The code bundle of a run: its digest, the archive on local disk, where the store holds it, and where it is extracted.</summary>
/// <param name="Digest">The bundle's content digest.</param>
/// <param name="ArchivePath">The archive on local disk.</param>
/// <param name="StoreUri">The blob URI a container downloads it from.</param>
/// <param name="ExtractedDirectory">The directory the bundle is extracted in for local execution.</param>
internal sealed record PythonBundle(string Digest, string? ArchivePath, string? StoreUri, string ExtractedDirectory);
