namespace FlyteSharp.Images;

/// <summary>
/// A <c>COPY</c> of files the plan put into the build context: a folder's contents (<see cref="IsFolder"/>, rendered
/// <c>COPY ctx/ dest/</c>) or one file (<c>COPY ctx/name dest</c>).
/// </summary>
/// <param name="ContextSource">The context path copied (a folder without trailing slash, or a file).</param>
/// <param name="Destination">The absolute path in the image (the folder the contents land in, or the file's path).</param>
/// <param name="IsFolder">Whether a folder's contents are copied.</param>
/// <param name="Files">Each file with its path relative to <paramref name="Destination"/> (empty for a single file) and its context entry.</param>
internal sealed record CopyInstruction(string ContextSource, string Destination, bool IsFolder, IReadOnlyList<CopiedFile> Files) : ImageInstruction
{
    /// <inheritdoc/>
    public override string Dockerfile => IsFolder ? $"COPY {ContextSource}/ {Destination.TrimEnd('/')}/" : $"COPY {ContextSource} {Destination}";

    /// <inheritdoc/>
    public override bool NeedsBuilder => false;
}
