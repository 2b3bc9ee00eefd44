using FlyteSharp.Configuration;
using FlyteSharp.Storage;

namespace FlyteSharp.Runs;

/// <summary>Reads outputs that runs stored as blobs (the run handle, the console and the CLI all read them the same way).</summary>
internal static class OutputBlobs
{
    /// <summary>Opens a blob output for reading: the file of a <c>file://</c> store directly, else a downloaded, digest-checked temporary copy.</summary>
    public static async Task<Stream> OpenAsync(OutputBlob blob, FlyteConfig config, CancellationToken cancellationToken)
    {
        var (storeUri, digest) = BlobStores.ParseBlobUri(blob.Uri);
        var store = BlobStores.Open(storeUri, config);
        await using (store.ConfigureAwait(false))
        {
            if (store is FileBlobStore files)
            {
                var path = files.BlobPath(digest);
                if (!File.Exists(path))
                {
                    throw new FlyteSharpException($"the output blob {digest} is not in the store", path,
                        fix: "the store was cleaned or moved: re-run the task, or point [storage] uri at the store the run used");
                }

                return OpenRead(path);
            }

            var temp = Path.Combine(Path.GetTempPath(), $"flytesharp-output-{Guid.NewGuid():N}.json");
            await store.GetAsync(digest, temp, cancellationToken).ConfigureAwait(false);
            return new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16,
                FileOptions.Asynchronous | FileOptions.SequentialScan | FileOptions.DeleteOnClose);
        }
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
}
