using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlyteSharp.Content;
using FlyteSharp.Registry;

namespace FlyteSharp.Storage;

/// <summary>
/// A store in an OCI registry repository (<c>oci://host[:port]/repository</c>). Each blob is pushed as a blob
/// and wrapped in a small OCI artifact manifest tagged <c>sha256-&lt;hex&gt;</c>, so stored bundles are listable
/// (<c>GET /v2/&lt;repository&gt;/tags/list</c>) and survive registry garbage collection. A put first asks whether
/// that tag exists (one HEAD) and then does nothing. Named objects are artifacts tagged <c>obj-&lt;hash of key&gt;</c>
/// carrying the key as an annotation; the manifest PUT is the atomic commit.
/// </summary>
internal sealed class OciBlobStore(OciRegistryClient client, string repository) : IBlobStore
{
    public const string BlobArtifactType = "application/vnd.flytesharp.blob.v1";
    public const string ObjectArtifactType = "application/vnd.flytesharp.object.v1";
    public const string KeyAnnotation = "org.flytesharp.object.key";
    private const string EmptyConfigMediaType = "application/vnd.oci.empty.v1+json";
    private static readonly byte[] EmptyConfig = "{}"u8.ToArray();
    private static readonly string EmptyConfigDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(EmptyConfig));

    public string Repository { get; } = repository;

    public string Uri => $"oci://{client.Host}/{Repository}";

    public string BlobUri(string digest) => $"{Uri}@sha256:{Digests.Hex(digest)}";

    internal static string BlobTag(string digest) => "sha256-" + Digests.Hex(digest);

    internal static string ObjectTag(string key) => "obj-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ObjectKeys.Validate(key))))[..48];

    public Task<bool> ExistsAsync(string digest, CancellationToken cancellationToken = default) =>
        client.ManifestExistsAsync(Repository, BlobTag(digest), cancellationToken);

    public async Task<string> PutAsync(string digest, string localFile, CancellationToken cancellationToken = default)
    {
        var tag = BlobTag(digest);
        if (await client.ManifestExistsAsync(Repository, tag, cancellationToken).ConfigureAwait(false))
        {
            return BlobUri(digest);
        }

        var length = await VerifyLocalAsync(localFile, digest, cancellationToken).ConfigureAwait(false);
        await PushArtifactAsync(tag, digest, length, () => OpenRead(localFile), BlobArtifactType, annotations: null, cancellationToken).ConfigureAwait(false);
        return BlobUri(digest);
    }

    public async Task GetAsync(string digest, string destinationFile, CancellationToken cancellationToken = default)
    {
        Digests.Hex(digest);
        await AtomicFile.WriteAsync(destinationFile, async (stream, ct) =>
        {
            var actual = await client.DownloadBlobAsync(Repository, digest, stream, ct).ConfigureAwait(false)
                ?? throw new FlyteSharpException($"blob {digest} is not in {Uri}", fix: "push it first (`flytesharp bundle <root_dir> --store <uri>`), or check the store URI");
            if (actual != digest)
            {
                throw new FlyteSharpException($"registry {client.Host} sent content with digest {actual} for {digest}", fix: "the registry's storage is damaged: push the bundle again");
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task PutObjectAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var tag = ObjectTag(key);
        var temp = Path.Combine(Path.GetTempPath(), $"flytesharp-object-{Guid.NewGuid():N}");
        try
        {
            string digest;
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                digest = await VerifyingCopy.CopyAsync(content, file, cancellationToken).ConfigureAwait(false);
            }

            var annotations = new JsonObject { [KeyAnnotation] = key };
            await PushArtifactAsync(tag, digest, new FileInfo(temp).Length, () => OpenRead(temp), ObjectArtifactType, annotations, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task<bool> ObjectExistsAsync(string key, CancellationToken cancellationToken = default) =>
        client.ManifestExistsAsync(Repository, ObjectTag(key), cancellationToken);

    public async Task GetObjectAsync(string key, Stream destination, CancellationToken cancellationToken = default)
    {
        var manifest = await client.GetManifestAsync(Repository, ObjectTag(key), cancellationToken).ConfigureAwait(false)
            ?? throw new FlyteSharpException($"object '{key}' is not in {Uri}", fix: "check the key and the store URI");
        string digest;
        try
        {
            var node = JsonNode.Parse(manifest);
            digest = node?["layers"] is JsonArray { Count: > 0 } layers && layers[0]?["digest"] is JsonValue value && value.TryGetValue<string>(out var d)
                ? d
                : throw new JsonException("the manifest has no layers[0].digest string");
            if (node!["annotations"]?[KeyAnnotation]?.GetValue<string>() != key)
            {
                throw new FlyteSharpException($"object tag {ObjectTag(key)} in {Uri} belongs to another key", fix: "the repository is shared with something else: use another repository");
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new FlyteSharpException($"object '{key}' in {Uri} has a malformed manifest", fix: "put the object again", inner: ex);
        }

        var actual = await client.DownloadBlobAsync(Repository, digest, destination, cancellationToken).ConfigureAwait(false)
            ?? throw new FlyteSharpException($"object '{key}' in {Uri} points at missing blob {digest}", fix: "put the object again");
        if (actual != digest)
        {
            throw new FlyteSharpException($"registry {client.Host} sent content with digest {actual} for object '{key}'", fix: "put the object again");
        }
    }

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task PushArtifactAsync(string tag, string digest, long length, Func<Stream> open, string artifactType, JsonObject? annotations, CancellationToken cancellationToken)
    {
        if (!await client.BlobExistsAsync(Repository, digest, cancellationToken).ConfigureAwait(false))
        {
            await client.UploadBlobAsync(Repository, digest, open, length, cancellationToken).ConfigureAwait(false);
        }

        if (!await client.BlobExistsAsync(Repository, EmptyConfigDigest, cancellationToken).ConfigureAwait(false))
        {
            await client.UploadBlobAsync(Repository, EmptyConfigDigest, () => new MemoryStream(EmptyConfig), EmptyConfig.Length, cancellationToken).ConfigureAwait(false);
        }

        // No timestamps or host data: the same blob always gets the same manifest (and manifest digest).
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciRegistryClient.OciManifestMediaType,
            ["artifactType"] = artifactType,
            ["config"] = new JsonObject { ["mediaType"] = EmptyConfigMediaType, ["digest"] = EmptyConfigDigest, ["size"] = EmptyConfig.Length },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = artifactType, ["digest"] = digest, ["size"] = length }),
        };
        if (annotations is not null)
        {
            manifest["annotations"] = annotations;
        }

        await client.PutManifestAsync(Repository, tag, Encoding.UTF8.GetBytes(manifest.ToJsonString()), OciRegistryClient.OciManifestMediaType, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<long> VerifyLocalAsync(string localFile, string digest, CancellationToken cancellationToken)
    {
        Digests.Hex(digest);
        string actual;
        try
        {
            actual = await Digests.OfFileAsync(localFile, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot read: {ex.Message}", localFile, fix: "check the path and permissions", inner: ex);
        }

        if (actual != digest)
        {
            throw new FlyteSharpException($"content digest {actual} does not match the expected {digest}", localFile, fix: "the file changed or is not this blob: rebuild it");
        }

        return new FileInfo(localFile).Length;
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
}
