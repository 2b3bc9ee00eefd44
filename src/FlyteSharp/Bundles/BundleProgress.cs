namespace FlyteSharp.Bundles;

/// <summary>Progress of a bundle build, reported while files are archived.</summary>
/// <param name="FilesDone">Files archived so far.</param>
/// <param name="FileCount">Files to archive in total.</param>
/// <param name="BytesDone">File bytes read so far.</param>
/// <param name="TotalBytes">File bytes to read in total.</param>
public readonly record struct BundleProgress(int FilesDone, int FileCount, long BytesDone, long TotalBytes);
