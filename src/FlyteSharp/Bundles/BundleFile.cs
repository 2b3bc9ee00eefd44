namespace FlyteSharp.Bundles;

/// <summary>One file of a code bundle.</summary>
/// <param name="RelativePath">Path inside the bundle: relative to root_dir, POSIX separators, no leading <c>./</c>.</param>
/// <param name="FullPath">Where the content is read from (for a symlink inside root_dir: the link, which reads as its target).</param>
/// <param name="Executable">True when the owner may execute the file; the archive stores it as 0755 (otherwise 0644).</param>
/// <param name="Length">Size in bytes at selection time.</param>
public sealed record BundleFile(string RelativePath, string FullPath, bool Executable, long Length);
