namespace FlyteSharp.Storage;

/// <summary>
/// Where bundles and run data live, addressed by URI (<see cref="BlobStores.Open"/>). Blobs are
/// content-addressed by their sha256 digest: puts are atomic and idempotent (an existing digest costs one
/// existence check, no upload). Named objects (run inputs/outputs) are put and read whole, atomically.
/// Dispose it when done: an <c>oci://</c> store holds an HTTP client.
/// </summary>
public interface IBlobStore : IAsyncDisposable
{
    /// <summary>The store's URI, e.g. <c>file:///home/me/.flytesharp/store</c> or <c>oci://127.0.0.1:5000/flytesharp/bundles</c>.</summary>
    string Uri { get; }

    /// <summary>The URI of a blob in this store (what <see cref="PutAsync"/> returns); <see cref="BlobStores.ParseBlobUri"/> reverses it.</summary>
    string BlobUri(string digest);

    /// <summary>True when the blob is in the store.</summary>
    Task<bool> ExistsAsync(string digest, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="localFile"/> under <paramref name="digest"/> unless already there, verifying that the
    /// content has that digest. Returns the blob's URI.
    /// </summary>
    /// <exception cref="FlyteSharpException">The file's content does not match the digest, or the store refuses.</exception>
    Task<string> PutAsync(string digest, string localFile, CancellationToken cancellationToken = default);

    /// <summary>Downloads a blob to <paramref name="destinationFile"/> (temp + rename; the digest is verified).</summary>
    /// <exception cref="FlyteSharpException">The blob is missing, or its content does not match the digest.</exception>
    Task GetAsync(string digest, string destinationFile, CancellationToken cancellationToken = default);

    /// <summary>Stores a named object (replacing an older one atomically). Keys are relative paths of <c>[A-Za-z0-9._-]</c> segments.</summary>
    Task PutObjectAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>True when a named object exists.</summary>
    Task<bool> ObjectExistsAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Copies a named object into <paramref name="destination"/>.</summary>
    /// <exception cref="FlyteSharpException">The object does not exist.</exception>
    Task GetObjectAsync(string key, Stream destination, CancellationToken cancellationToken = default);
}
