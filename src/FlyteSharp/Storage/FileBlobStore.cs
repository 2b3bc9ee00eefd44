using FlyteSharp.Content;

namespace FlyteSharp.Storage;

/// <summary>
/// A store in a local directory (<c>file://</c>): blobs at <c>blobs/sha256/&lt;hex&gt;</c>, objects at
/// <c>objects/&lt;key&gt;</c>. Every write goes to a temporary file in the same directory and is renamed into place.
/// </summary>
internal sealed class FileBlobStore(string root) : IBlobStore
{
    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public string Root { get; } = Path.GetFullPath(root);

    public string Uri => new Uri(Root).AbsoluteUri;

    public string BlobUri(string digest) => new Uri(BlobPath(digest)).AbsoluteUri;

    internal string BlobPath(string digest) => Path.Combine(Root, "blobs", "sha256", Digests.Hex(digest));

    public Task<bool> ExistsAsync(string digest, CancellationToken cancellationToken = default) => Task.FromResult(File.Exists(BlobPath(digest)));

    public async Task<string> PutAsync(string digest, string localFile, CancellationToken cancellationToken = default)
    {
        var target = BlobPath(digest);
        if (File.Exists(target))
        {
            return BlobUri(digest);
        }

        await CopyVerifiedAsync(localFile, target, digest, cancellationToken).ConfigureAwait(false);
        return BlobUri(digest);
    }

    public async Task GetAsync(string digest, string destinationFile, CancellationToken cancellationToken = default)
    {
        var source = BlobPath(digest);
        if (!File.Exists(source))
        {
            throw new FlyteSharpException($"blob {digest} is not in the store", source, fix: "push it first (`flytesharp bundle <root_dir> --store <uri>`), or check the store URI");
        }

        await CopyVerifiedAsync(source, Path.GetFullPath(destinationFile), digest, cancellationToken).ConfigureAwait(false);
    }

    public async Task PutObjectAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var target = ObjectPath(key);
        await AtomicFile.WriteAsync(target, async (stream, ct) => await content.CopyToAsync(stream, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> ObjectExistsAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult(File.Exists(ObjectPath(key)));

    public async Task GetObjectAsync(string key, Stream destination, CancellationToken cancellationToken = default)
    {
        var path = ObjectPath(key);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FlyteSharpException($"object '{key}' is not in the store", path, fix: "check the key and the store URI");
        }

        await using (stream)
        {
            await stream.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
        }
    }

    private string ObjectPath(string key) => Path.Combine(Root, "objects", ObjectKeys.Validate(key).Replace('/', Path.DirectorySeparatorChar));

    private static async Task CopyVerifiedAsync(string source, string target, string digest, CancellationToken cancellationToken)
    {
        FileStream input;
        try
        {
            input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot read: {ex.Message}", source, fix: "check the path and permissions", inner: ex);
        }

        await using (input)
        {
            await AtomicFile.WriteAsync(target, async (output, ct) =>
            {
                var actual = await VerifyingCopy.CopyAsync(input, output, ct).ConfigureAwait(false);
                if (actual != digest)
                {
                    throw new FlyteSharpException($"content digest {actual} does not match the expected {digest}", source,
                        fix: "the file changed or is not this blob: rebuild or fetch it again");
                }
            }, cancellationToken).ConfigureAwait(false);
        }
    }
}
