namespace FlyteSharp.Runs;

/// <summary>
/// An output too large to keep inline in the run store (above <c>[runs] inline_output_limit</c>): its JSON is a
/// content-addressed blob in the configured store, and the record holds this reference and a short preview.
/// </summary>
/// <param name="Uri">The blob's URI (<c>file:///…/blobs/sha256/&lt;hex&gt;</c> or <c>oci://host/repo@sha256:&lt;hex&gt;</c>).</param>
/// <param name="Digest">The sha256 digest of the output's UTF-8 JSON.</param>
/// <param name="Size">The JSON's length in bytes.</param>
/// <param name="Preview">The first characters of the JSON (not valid JSON on its own).</param>
public sealed record OutputBlob(string Uri, string Digest, long Size, string Preview);
