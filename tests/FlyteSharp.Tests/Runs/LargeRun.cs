using System.Text;
using FlyteSharp.Configuration;
using FlyteSharp.Content;
using FlyteSharp.Runs;
using FlyteSharp.Storage;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Runs;

/// <summary>
/// A recorded run with a root output stored as a blob in a real file store, a child with a 50 KB inline output,
/// and a log of many chunk rows — written through the real run store writer.
/// </summary>
internal sealed record LargeRun(string Name, string BlobFile, OutputBlob Blob, string InlineOutput, IReadOnlyList<string> LogLines)
{
    public const string RootId = "aroot";
    public const string ChildId = "achild";

    public static async Task<LargeRun> WriteAsync(RunStore store, string directory, string name = "large-run")
    {
        var blobJson = "[" + string.Join(",", Enumerable.Range(0, 40_000).Select(i => $"\"value-{i}\"")) + "]";
        var local = Path.Combine(directory, "blob.json");
        await File.WriteAllTextAsync(local, blobJson, TestContext.Current.CancellationToken);
        var storeUri = new Uri(Path.Combine(directory, "store")).AbsoluteUri;
        var blobs = BlobStores.Open(storeUri, new FlyteConfig());
        var digest = await Digests.OfFileAsync(local, TestContext.Current.CancellationToken);
        var uri = await blobs.PutAsync(digest, local, TestContext.Current.CancellationToken);
        var blob = new OutputBlob(uri, digest, new FileInfo(local).Length, blobJson[..1000]);
        var inline = "[" + string.Join(",", Enumerable.Range(0, 5_000).Select(i => i.ToString("D9", System.Globalization.CultureInfo.InvariantCulture))) + ",\"END-OF-INLINE\"]";
        var lines = Enumerable.Range(0, 20_000).Select(i => $"log line {i} " + new string('-', 60)).ToList();

        var at = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        store.InsertRun(new RunRecord(name, "root", "env", RunStatus.Running, "{\"n\":1}", null, null, "u", at, null, null, ExecutionMode.Local), null);
        await using (var writer = new RunStoreWriter(store, name))
        {
            writer.ActionStarted(RootId, null, 0, 0, "root", TaskKind.Python, "env", "{\"n\":1}", at);
            writer.ActionStarted(ChildId, RootId, 1, 1, "child", TaskKind.CSharp, "env", "{}", at);
            writer.ActionFinished(ChildId, ActionStatus.Succeeded, 1, false, inline, null, at);
            foreach (var line in lines)
            {
                writer.Log(ChildId, "stdout", line, at);
            }

            writer.ActionFinished(RootId, ActionStatus.Succeeded, 1, false, OutputColumn.Blob(blob), null, at);
            writer.RunFinished(RunStatus.Succeeded, OutputColumn.Blob(blob), null, at.AddSeconds(1));
        }

        return new LargeRun(name, new Uri(uri).LocalPath, blob, inline, lines);
    }

    public string ExpectedLogText => string.Concat(LogLines.Select(l => $"{ChildId} stdout: {l}\n"));

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
