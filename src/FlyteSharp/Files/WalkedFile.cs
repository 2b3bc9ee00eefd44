namespace FlyteSharp.Files;

/// <summary>A file a <see cref="FileWalker"/> kept.</summary>
/// <param name="RelativePath">POSIX path relative to the walk's root.</param>
/// <param name="FullPath">Where it is on disk (a kept symlink's own path; reading it reads the target).</param>
/// <param name="Executable">Executable by its owner (the target's mode, for a symlink).</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="Stat">The stat taken during the walk (the target's, for a symlink), or null where native stat is not available.</param>
internal sealed record WalkedFile(string RelativePath, string FullPath, bool Executable, long Size, StatInfo? Stat);
