using System.Text.Json;

namespace FlyteSharp.Runs;

/// <summary>
/// How an output is kept in the run store's <c>outputs</c> columns: inline JSON text, or <c>@blob </c> followed by
/// the JSON of an <see cref="OutputBlob"/>. No JSON text starts with <c>@</c>, so rows written before outputs could be
/// blobs (always inline JSON) read back unchanged.
/// </summary>
internal static class OutputColumn
{
    /// <summary>How many characters of an output previews show (pages, the API, <c>runs show</c>, blob records).</summary>
    public const int PreviewChars = 1000;

    private const string BlobPrefix = "@blob ";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Blob(OutputBlob blob) => BlobPrefix + JsonSerializer.Serialize(blob, Json);

    /// <summary>Splits a column value into inline JSON or a blob reference.</summary>
    public static (string? Json, OutputBlob? Blob) Parse(string? column)
    {
        if (column is null || !column.StartsWith(BlobPrefix, StringComparison.Ordinal))
        {
            return (column, null);
        }

        try
        {
            return (null, JsonSerializer.Deserialize<OutputBlob>(column.AsSpan(BlobPrefix.Length), Json));
        }
        catch (JsonException)
        {
            // Cut short by a preview read: the reference is unreadable here; the full read (GetAction) has it.
            return (null, null);
        }
    }

    /// <summary>The first <see cref="PreviewChars"/> characters of <paramref name="json"/>.</summary>
    public static string Preview(string json) => json.Length <= PreviewChars ? json : json[..PreviewChars];
}
