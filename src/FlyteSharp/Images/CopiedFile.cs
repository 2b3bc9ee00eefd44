namespace FlyteSharp.Images;

/// <summary>One file of a <see cref="CopyInstruction"/>: its path in the image and where it is read from.</summary>
/// <param name="ImagePath">Absolute POSIX path in the image.</param>
/// <param name="SourceFile">The file on disk (its real path, as the build context copies it).</param>
/// <param name="Executable">Copied with mode 0755 (else 0644).</param>
internal sealed record CopiedFile(string ImagePath, string SourceFile, bool Executable);
