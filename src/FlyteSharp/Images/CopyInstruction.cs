namespace FlyteSharp.Images;

/// <summary>
/// A <c>COPY</c> of files the plan put into the build context: a folder's contents (<see cref="IsFolder"/>, rendered
/// <c>COPY ctx/ dest/</c>) or one file (<c>COPY ctx/name dest</c>).
/// </summary>
/// <param name="ContextSource">The context path copied (a folder without trailing slash, or a file).</param>
/// <param name="Destination">The absolute path in the image (the folder the contents land in, or the file's path).</param>
/// <param name="IsFolder">Whether a folder's contents are copied.</param>
/// <param name="LazyEntries">The context entries copied (all under <paramref name="ContextSource"/>), made on first use: a warm
/// tag whose image exists never needs a record per file.</param>
internal sealed record CopyInstruction(string ContextSource, string Destination, bool IsFolder, Lazy<IReadOnlyList<ContextEntry>> LazyEntries) : ImageInstruction
{
    /// <summary>The context entries copied (all under <see cref="ContextSource"/>).</summary>
    public IReadOnlyList<ContextEntry> Entries => LazyEntries.Value;

    /// <inheritdoc/>
    public override string Dockerfile => IsFolder ? $"COPY {ContextSource}/ {Destination.TrimEnd('/')}/" : $"COPY {ContextSource} {Destination}";

    /// <inheritdoc/>
    public override bool NeedsBuilder => false;

    /// <summary>
    /// Each file with its path in the image, made on demand: resolving a warm tag never asks, and a per-file record there
    /// would be managed work on every file of every tag.
    /// </summary>
    public IReadOnlyList<CopiedFile> Files =>
        IsFolder
            ? [.. Entries.Select(e => new CopiedFile(Destination.TrimEnd('/') + "/" + e.Path[(ContextSource.Length + 1)..], e.SourceFile!, e.Executable))]
            : [.. Entries.Select(e => new CopiedFile(Destination, e.SourceFile!, e.Executable))];
}
