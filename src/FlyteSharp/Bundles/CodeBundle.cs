namespace FlyteSharp.Bundles;

/// <summary>A built code bundle: a deterministic <c>.tar.gz</c> of root_dir's selected files, in the local cache.</summary>
/// <param name="Digest">Content address of the archive: <c>sha256:&lt;hex&gt;</c> of its bytes. Same files, same digest.</param>
/// <param name="ArchivePath">The archive in the local bundle cache (treat as read-only; copy it to keep it).</param>
/// <param name="FileCount">Number of files in the archive.</param>
/// <param name="Bytes">Size of the archive (compressed) in bytes.</param>
public sealed record CodeBundle(string Digest, string ArchivePath, int FileCount, long Bytes);
