using FlyteSharp.Files;

namespace FlyteSharp.Images;

/// <summary>A file chosen for an image layer: its POSIX path relative to the layer's root, where it is on disk, and its stat from the walk (null when not walked).</summary>
/// <param name="RelativePath">POSIX path relative to the layer's root.</param>
/// <param name="FullPath">Where it is on disk.</param>
/// <param name="Executable">Executable by its owner.</param>
/// <param name="Stat">Its stat from the walk, or null when not walked.</param>
/// <param name="IsRealPath">True when <paramref name="FullPath"/> holds no symlink (a walk of the real root reports links at their targets), so the build context need not resolve it again.</param>
internal sealed record SelectedFile(string RelativePath, string FullPath, bool Executable, StatInfo? Stat = null, bool IsRealPath = false);
