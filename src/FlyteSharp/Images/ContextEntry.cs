namespace FlyteSharp.Images;

/// <summary>
/// A file the build context must contain: copied from disk or written from bytes; or a folder (its path ends in <c>/</c>)
/// that <see cref="Generator"/> fills when the context is written (a host publish, too slow to run for a tag).
/// </summary>
internal sealed record ContextEntry(string Path, string? SourceFile, byte[]? Content, bool Executable, Func<string, CancellationToken, Task>? Generator = null);
