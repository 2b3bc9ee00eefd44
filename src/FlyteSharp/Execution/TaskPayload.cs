using FlyteSharp.Runs;

namespace FlyteSharp.Execution;

/// <summary>
/// The JSON of an action's inputs or output as the run store keeps it: inline text, or a reference to a blob in the
/// store (above the inline limit). While the run runs, a blob may also still sit in <see cref="LocalFile"/> (a spill
/// file in the sandbox), which is read instead of the store.
/// </summary>
internal sealed record TaskPayload(string? Json, OutputBlob? Blob, string? LocalFile = null)
{
    /// <summary>What the run store's <c>inputs</c>/<c>outputs</c> column holds.</summary>
    public string RecordText => Json ?? OutputColumn.Blob(Blob!);

    /// <summary>What action ids, cycle checks and cache keys hash: the JSON text, or the blob's content digest.</summary>
    public string Identity => Json ?? Blob!.Digest;

    /// <summary>Reads a column value back (an old row's inline JSON, or a blob reference).</summary>
    public static TaskPayload FromRecord(string text)
    {
        var (json, blob) = OutputColumn.Parse(text);
        return new TaskPayload(json, blob);
    }
}
