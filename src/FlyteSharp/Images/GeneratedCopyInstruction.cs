namespace FlyteSharp.Images;

/// <summary>
/// A <c>COPY</c> of a context folder whose files are made when they are needed (a host <c>dotnet publish</c>, too slow to
/// run for a tag): rendered <c>COPY ctx/ dest/</c>. A builder gets the folder through the build context; the registry
/// assembly makes it in a folder of its own (<see cref="MaterializeAsync"/>) and copies it like any other COPY.
/// </summary>
/// <param name="ContextSource">The context folder copied (without trailing slash).</param>
/// <param name="Destination">The absolute folder in the image its contents land in.</param>
/// <param name="Generate">Fills the folder it is given; whatever it writes must be a function of what the layer hashed.</param>
internal sealed record GeneratedCopyInstruction(string ContextSource, string Destination, Func<string, CancellationToken, Task> Generate) : ImageInstruction
{
    /// <inheritdoc/>
    public override string Dockerfile => $"COPY {ContextSource}/ {Destination.TrimEnd('/')}/";

    /// <inheritdoc/>
    public override bool NeedsBuilder => false;

    /// <summary>
    /// Makes the files in <paramref name="directory"/> (an empty folder the caller owns and deletes) and returns the
    /// plain COPY of them, for the same layer and with the same Dockerfile text.
    /// </summary>
    /// <exception cref="FlyteSharpException">The generator left something that is not a regular file or folder.</exception>
    public async Task<CopyInstruction> MaterializeAsync(string directory, CancellationToken cancellationToken)
    {
        await Generate(directory, cancellationToken).ConfigureAwait(false);
        var entries = new List<ContextEntry>();
        foreach (var path in Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null || (!info.Attributes.HasFlag(FileAttributes.Directory) && !File.Exists(path)))
            {
                throw new FlyteSharpException($"making '{Destination}' left '{Path.GetRelativePath(directory, path)}', which is not a regular file",
                    fix: "report this: generated image folders hold only regular files");
            }

            if (info.Attributes.HasFlag(FileAttributes.Directory))
            {
                continue;
            }

            var relative = Path.GetRelativePath(directory, path).Replace(Path.DirectorySeparatorChar, '/');
            var executable = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0;
            entries.Add(new ContextEntry(ContextSource + "/" + relative, path, null, executable));
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return new CopyInstruction(ContextSource, Destination, IsFolder: true, new(entries)) { Layer = Layer };
    }
}
