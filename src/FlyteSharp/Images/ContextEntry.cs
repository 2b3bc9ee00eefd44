namespace FlyteSharp.Images;

/// <summary>A file the build context must contain: copied from disk or written from bytes.</summary>
internal sealed record ContextEntry(string Path, string? SourceFile, byte[]? Content, bool Executable);
