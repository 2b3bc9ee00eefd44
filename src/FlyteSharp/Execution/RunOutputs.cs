using System.Text;
using System.Text.Json;
using FlyteSharp.Configuration;
using FlyteSharp.Content;
using FlyteSharp.Runs;
using FlyteSharp.Storage;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>
/// Keeps a run's outputs bounded in memory: JSON above <see cref="FlyteConfig.InlineOutputLimit"/> bytes goes to the
/// store as a content-addressed blob (streamed from a file: hashed, copied, never held as one string), and values are
/// read back from that blob with a streaming deserializer only when a task needs them.
/// </summary>
internal sealed class RunOutputs : IDisposable
{
    private readonly FlyteConfig _config;
    private readonly string _spillDirectory;
    private readonly Lazy<IBlobStore> _store;

    public RunOutputs(FlyteConfig config, string spillDirectory)
    {
        _config = config;
        _spillDirectory = spillDirectory;
        _store = new Lazy<IBlobStore>(() => BlobStores.Open(config.EffectiveStoreUri, config));
    }

    public long InlineLimit => _config.InlineOutputLimit;

    /// <summary>
    /// A new file path in the run's spill directory. The directory is made only when something is written there, so a
    /// run whose values all stay inline never touches the disk (and a refused run creates nothing in a sandbox).
    /// </summary>
    public string NewSpillFile(string prefix) => Path.Combine(_spillDirectory, $"{prefix}-{Guid.NewGuid():N}.json");

    /// <summary>An output given as JSON text: inline when small, else spilled to a file and stored as a blob.</summary>
    public async Task<TaskPayload> FromJsonAsync(string json, CancellationToken cancellationToken)
    {
        if (json.Length <= InlineLimit / 3 || Encoding.UTF8.GetByteCount(json) <= InlineLimit)
        {
            return new TaskPayload(json, null);
        }

        var file = NewSpillFile("output");
        Directory.CreateDirectory(_spillDirectory);
        await File.WriteAllTextAsync(file, json, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        return await FromFileAsync(file, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An output the runner wrote to <paramref name="file"/> (it was above the limit): stored as a blob; the file stays until <see cref="Release"/>.</summary>
    public async Task<TaskPayload> FromFileAsync(string file, CancellationToken cancellationToken)
    {
        var size = new FileInfo(file).Length;
        if (size <= InlineLimit)
        {
            var json = await File.ReadAllTextAsync(file, Encoding.UTF8, cancellationToken).ConfigureAwait(false);
            File.Delete(file);
            return new TaskPayload(json, null);
        }

        var digest = await Digests.OfFileAsync(file, cancellationToken).ConfigureAwait(false);
        var uri = await _store.Value.PutAsync(digest, file, cancellationToken).ConfigureAwait(false);
        return new TaskPayload(null, new OutputBlob(uri, digest, size, await PreviewAsync(file, cancellationToken).ConfigureAwait(false)), file);
    }

    /// <summary>Serializes a C# task's output: written to a buffer that moves to a file once it passes the limit.</summary>
    public async Task<TaskPayload> SerializeAsync(TaskDefinition task, object? value, CancellationToken cancellationToken)
    {
        var file = NewSpillFile("output");
        var spill = new SpillStream(file, InlineLimit);
        await using (spill.ConfigureAwait(false))
        {
            try
            {
                await JsonSerializer.SerializeAsync(spill, value, task.OutputType, TaskJson.Options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NotSupportedException or ArgumentException or JsonException or InvalidOperationException)
            {
                // Same message as the in-memory path gives.
                TaskJson.SerializeOutput(task, value);
                throw;
            }

            if (!spill.Spilled)
            {
                return new TaskPayload(spill.BufferedText(), null);
            }
        }

        var output = await FromFileAsync(file, cancellationToken).ConfigureAwait(false);
        Release(output);
        return output with { LocalFile = null };
    }

    /// <summary>
    /// Serializes a call's inputs as one JSON object keyed by parameter name, streamed through a buffer that moves to a
    /// file past the limit; a large payload is stored as a blob and keeps its spill file (the runner reads it) until released.
    /// </summary>
    public async Task<TaskPayload> SerializeInputsAsync(TaskDefinition task, IReadOnlyList<TaskParameter> parameters, object?[] inputs, CancellationToken cancellationToken)
    {
        var file = NewSpillFile("inputs");
        var spill = new SpillStream(file, InlineLimit);
        await using (spill.ConfigureAwait(false))
        {
            try
            {
                // The object's frame by hand, each value through the streaming serializer (it flushes as it goes).
                spill.WriteByte((byte)'{');
                for (var i = 0; i < parameters.Count; i++)
                {
                    if (i > 0)
                    {
                        spill.WriteByte((byte)',');
                    }

                    spill.WriteByte((byte)'"');
                    spill.Write(JsonEncodedText.Encode(parameters[i].Name, TaskJson.Options.Encoder).EncodedUtf8Bytes);
                    spill.Write("\":"u8);
                    await JsonSerializer.SerializeAsync(spill, inputs[i], parameters[i].Type, TaskJson.Options, cancellationToken).ConfigureAwait(false);
                }

                spill.WriteByte((byte)'}');
            }
            catch (Exception ex) when (ex is NotSupportedException or ArgumentException or JsonException or InvalidOperationException)
            {
                // The in-memory path names the input and its type.
                TaskJson.SerializeInputs(task, parameters, inputs);
                throw;
            }

            if (!spill.Spilled)
            {
                return new TaskPayload(spill.BufferedText(), null);
            }
        }

        return await FromFileAsync(file, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A local file holding the payload's JSON (its spill file, the blob of a <c>file://</c> store, or a download).</summary>
    public async Task<string> LocalFileOfAsync(TaskPayload payload, CancellationToken cancellationToken)
    {
        if (payload.LocalFile is { } local && File.Exists(local))
        {
            return local;
        }

        var file = NewSpillFile("blob");
        Directory.CreateDirectory(_spillDirectory);
        if (payload.Json is not null)
        {
            await File.WriteAllTextAsync(file, payload.Json, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
            return file;
        }

        var source = await OutputBlobs.OpenAsync(payload.Blob!, _config, cancellationToken).ConfigureAwait(false);
        await using var sourceDisposal = source.ConfigureAwait(false);
        var target = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await using var targetDisposal = target.ConfigureAwait(false);
        await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
        return file;
    }

    /// <summary>The output's value as the task's output type, deserialized from the JSON text or streamed from the blob.</summary>
    public async Task<object?> ReadValueAsync(TaskDefinition task, TaskPayload output, CancellationToken cancellationToken)
    {
        if (output.Json is not null)
        {
            return TaskJson.DeserializeOutput(task, output.Json);
        }

        return await ReadValueAsync(task, output, _config, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a value back without a run's store (a finished run's handle; a call outside any run).</summary>
    public static async Task<object?> ReadValueAsync(TaskDefinition task, TaskPayload output, FlyteConfig config, CancellationToken cancellationToken)
    {
        if (output.Json is not null)
        {
            return TaskJson.DeserializeOutput(task, output.Json);
        }

        var stream = (output.LocalFile is { } local && File.Exists(local)
            ? OpenRead(local)
            : await OutputBlobs.OpenAsync(output.Blob!, config, cancellationToken).ConfigureAwait(false));
        await using var streamDisposal = stream.ConfigureAwait(false);
        return await ReadValueAsync(task, stream, output.Blob?.Preview ?? "", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the local spill file of an output (its blob is in the store).</summary>
    public static void Release(TaskPayload output)
    {
        if (output.LocalFile is { } file)
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // The sandbox goes when the run ends.
            }
        }
    }

    public void Dispose()
    {
        if (_store.IsValueCreated)
        {
            // Both stores release their resources synchronously (an oci:// store's HTTP client); nothing is awaited here.
            _store.Value.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static async Task<object?> ReadValueAsync(TaskDefinition task, Stream stream, string preview, CancellationToken cancellationToken)
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync(stream, task.OutputType, TaskJson.Options, cancellationToken).ConfigureAwait(false);
            if (value is null && task.OutputType.IsValueType && Nullable.GetUnderlyingType(task.OutputType) is null)
            {
                throw new JsonException("null is not a value of a non-nullable type");
            }

            return value;
        }
        catch (JsonException ex)
        {
            throw new FlyteSharpException(
                $"task '{task.Name}' returned {(preview.Length <= 80 ? preview : preview[..77] + "...")}, which is not a {TypeNames.Describe(task.OutputType)}: {ex.Message}",
                fix: $"make the function return a value that fits {TypeNames.Describe(task.OutputType)}, or change the declared output type");
        }
    }

    private static async Task<string> PreviewAsync(string file, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(file, Encoding.UTF8);
        var buffer = new char[OutputColumn.PreviewChars];
        var read = await reader.ReadBlockAsync(buffer, cancellationToken).ConfigureAwait(false);
        return new string(buffer, 0, read);
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
}
