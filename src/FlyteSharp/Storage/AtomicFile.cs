using FlyteSharp.Files;

namespace FlyteSharp.Storage;

/// <summary>
/// Writes a file so that readers see the old file or the whole new one, never a partial one: how FlyteSharp writes
/// archives and outputs to paths a user names.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Refuses a target that writing would wrongly replace, before any work is done: a directory, or a device, FIFO or
    /// socket (renaming over it would put a plain file in its place). A regular file, a symlink (itself replaced) or nothing may be there.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="name">What the user called it, for the message (e.g. <c>--output</c>).</param>
    /// <param name="example">An example of a good value, for the fix (e.g. <c>--output bundle.tar.gz</c>).</param>
    /// <exception cref="FlyteSharpException">The target is a directory, device, FIFO or socket.</exception>
    public static void CheckTarget(string path, string name, string example)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full) && new FileInfo(full).LinkTarget is null)
        {
            throw new FlyteSharpException($"{name} is a directory", full, fix: $"name a file, e.g. {example}");
        }

        if (UnixStat.TryStat(full, followLinks: false, out var stat) && !stat.IsRegularFile && !stat.IsSymlink && !stat.IsDirectory)
        {
            throw new FlyteSharpException($"{name} is a device, FIFO or socket, which writing it would replace", full,
                fix: $"name a regular file, e.g. {example}");
        }
    }

    /// <summary>Writes through <paramref name="write"/> into a temporary sibling, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="write">Writes the content into the stream it is given.</param>
    /// <param name="cancellationToken">Stops the write; the target is then left as it was.</param>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.tmp-{Guid.NewGuid():N}");
        try
        {
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
