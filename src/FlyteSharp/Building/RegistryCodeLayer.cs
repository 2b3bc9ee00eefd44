using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Images;
using FlyteSharp.Registry;

namespace FlyteSharp.Building;

/// <summary>
/// A full-build image whose only difference from its dependency image (the same definition resolved for fast deploy)
/// is the code layer, made without a builder: the code files as one deterministic tar layer (the bundle's tar and gzip
/// writers), pushed as a blob, a new image config (the dependency's, with the layer's diff_id and a history entry) and
/// a manifest listing the dependency's layers plus the new one, put under the full build's tag through the registry
/// API. Same inputs give the same bytes, so the same manifest digest.
/// </summary>
internal static partial class RegistryCodeLayer
{
    /// <summary>The mtime of the history entry (the layer's files carry the bundle writer's fixed mtime).</summary>
    public const string Created = "1980-01-01T00:00:00Z";

    private const string OciManifest = OciRegistryClient.OciManifestMediaType;
    private const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    private const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    private const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    /// <summary>
    /// Puts <paramref name="full"/> into its registry without a builder when its dependency image is there and the code
    /// layer is all that differs. Returns the manifest digest, or null when this path does not apply (the caller builds).
    /// </summary>
    /// <param name="image">The image definition.</param>
    /// <param name="full">It resolved for the full build (<see cref="CopyStyle.None"/>).</param>
    /// <param name="options">The options <paramref name="full"/> was resolved with.</param>
    /// <param name="output">Receives one line saying what was done.</param>
    /// <param name="cancellationToken">Stops the uploads.</param>
    public static async Task<string?> TryPushAsync(Image image, ResolvedImage full, ImageResolveOptions options, Action<string>? output, CancellationToken cancellationToken)
    {
        if (image.Layers.Count == 0 || image.Layers[^1] is not CodeBundleLayer || full.CodeDirectory is not { } codeDirectory)
        {
            return null;
        }

        var dependency = image.Resolve(options with { CopyStyle = CopyStyle.All });
        if (dependency.Registry != full.Registry || dependency.Repository != full.Repository || CodeInstruction(full.Dockerfile, dependency.Dockerfile) is not { } instruction)
        {
            return null;
        }

        var files = full.CodeFiles();
        if (files.Count == 0)
        {
            return null; // an empty code layer is a RUN mkdir in the Dockerfile: left to the builder
        }

        using var client = new OciRegistryClient(full.Registry, options.Config);
        byte[]? manifestBytes;
        try
        {
            if (await client.ManifestExistsAsync(full.Repository, full.Tag, cancellationToken).ConfigureAwait(false))
            {
                return null; // already there (built or pushed before): the build service reports it as skipped-existing
            }

            manifestBytes = await client.GetManifestAsync(dependency.Repository, dependency.Tag, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FlyteSharpException or HttpRequestException)
        {
            // Nothing pushed yet: the build service asks the registry again and reports its own error.
            output?.Invoke($"# registry code layer not used for {full.Uri}: {ex.Message}");
            return null;
        }

        if (manifestBytes is null || JsonNode.Parse(manifestBytes) is not JsonObject manifest)
        {
            return null;
        }

        var manifestType = manifest["mediaType"]?.GetValue<string>() ?? OciManifest;
        if (manifestType is not (OciManifest or DockerManifest) || manifest["config"] is not JsonObject configDescriptor || manifest["layers"] is not JsonArray layers)
        {
            return null; // an index or an unknown format: the builder knows what to do
        }

        var configDigest = configDescriptor["digest"]!.GetValue<string>();
        using var configStream = new MemoryStream();
        if (await client.DownloadBlobAsync(dependency.Repository, configDigest, configStream, cancellationToken).ConfigureAwait(false) is not { } arrived || arrived != configDigest)
        {
            throw new FlyteSharpException($"the config blob {configDigest} of {dependency.Uri} is missing or does not match its digest",
                fix: "push the dependency image again (flytesharp build --force), then deploy");
        }

        var config = JsonNode.Parse(configStream.ToArray())!.AsObject();
        if (await DirectoryModesAsync(client, dependency.Repository, layers, codeDirectory, options.Config, cancellationToken).ConfigureAwait(false) is not { } directories)
        {
            return null;
        }

        var layerFile = Path.Combine(Path.GetTempPath(), "flytesharp-layer-" + Guid.NewGuid().ToString("N") + ".tar.gz");
        try
        {
            var (diffId, layerDigest, layerSize) = WriteLayer(files, codeDirectory, directories, layerFile, cancellationToken);
            if (!await client.BlobExistsAsync(full.Repository, layerDigest, cancellationToken).ConfigureAwait(false))
            {
                await client.UploadBlobAsync(full.Repository, layerDigest, () => File.OpenRead(layerFile), layerSize, cancellationToken).ConfigureAwait(false);
            }

            var rootfs = config["rootfs"] as JsonObject ?? throw new FlyteSharpException($"the config of {dependency.Uri} has no rootfs", fix: "rebuild the dependency image");
            (rootfs["diff_ids"] as JsonArray ?? throw new FlyteSharpException($"the config of {dependency.Uri} has no rootfs.diff_ids", fix: "rebuild the dependency image"))
                .Add(diffId);
            if (config["history"] is not JsonArray history)
            {
                config["history"] = history = [];
            }

            history.Add(new JsonObject { ["created"] = Created, ["created_by"] = instruction, ["comment"] = "FlyteSharp code layer (registry, no builder)" });
            var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString());
            var newConfigDigest = Sha256(configBytes);
            if (!await client.BlobExistsAsync(full.Repository, newConfigDigest, cancellationToken).ConfigureAwait(false))
            {
                await client.UploadBlobAsync(full.Repository, newConfigDigest, () => new MemoryStream(configBytes), configBytes.Length, cancellationToken).ConfigureAwait(false);
            }

            configDescriptor["digest"] = newConfigDigest;
            configDescriptor["size"] = configBytes.Length;
            layers.Add(new JsonObject
            {
                ["mediaType"] = manifestType == DockerManifest ? DockerLayer : OciLayer,
                ["digest"] = layerDigest,
                ["size"] = layerSize,
            });
            var newManifest = Encoding.UTF8.GetBytes(manifest.ToJsonString());
            var digest = await client.PutManifestAsync(full.Repository, full.Tag, newManifest, manifestType, cancellationToken).ConfigureAwait(false);
            output?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"# registry code layer: {full.Uri} = {dependency.Uri} + {files.Count} code file(s) ({layerSize} bytes), no builder"));
            return digest;
        }
        finally
        {
            File.Delete(layerFile);
        }
    }

    /// <summary>
    /// The Dockerfile instruction that makes the code layer, when <paramref name="full"/> is <paramref name="dependency"/>
    /// plus nothing but comments and one <c>COPY</c>; otherwise null.
    /// </summary>
    internal static string? CodeInstruction(string full, string dependency)
    {
        if (!full.StartsWith(dependency, StringComparison.Ordinal))
        {
            return null;
        }

        var added = full[dependency.Length..].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith('#')).ToList();
        return added is [var copy] && CopyLine().IsMatch(copy) ? copy : null;
    }

    /// <summary>
    /// The code directory and each of its parents with the mode the dependency image gives them (0755 where it has none,
    /// as a builder's COPY creates them). A layer without these entries would make the runtime create them 0755, which
    /// would change, say, <c>/root</c> from 0700. Each layer's directories are read once and cached by layer digest.
    /// Null when a layer's format cannot be read here.
    /// </summary>
    private static async Task<IReadOnlyList<(string Path, int Mode)>?> DirectoryModesAsync(
        OciRegistryClient client, string repository, JsonArray layers, string codeDirectory, FlyteConfig config, CancellationToken cancellationToken)
    {
        var parts = codeDirectory.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var wanted = Enumerable.Range(1, parts.Length).Select(n => string.Join('/', parts[..n])).ToList();
        var modes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = layers.Count - 1; i >= 0 && modes.Count < wanted.Count; i--)
        {
            var layer = layers[i]!.AsObject();
            var mediaType = layer["mediaType"]?.GetValue<string>() ?? "";
            if (!mediaType.EndsWith("tar+gzip", StringComparison.Ordinal) && !mediaType.EndsWith("tar.gzip", StringComparison.Ordinal))
            {
                return null;
            }

            var directories = await LayerDirectoriesAsync(client, repository, layer["digest"]!.GetValue<string>(), config, cancellationToken).ConfigureAwait(false);
            foreach (var path in wanted)
            {
                if (!modes.ContainsKey(path) && directories.TryGetValue(path, out var mode))
                {
                    modes[path] = mode;
                }
            }
        }

        return [.. wanted.Select(p => (p, modes.TryGetValue(p, out var m) ? m : 0b111_101_101))];
    }

    private static async Task<IReadOnlyDictionary<string, int>> LayerDirectoriesAsync(
        OciRegistryClient client, string repository, string digest, FlyteConfig config, CancellationToken cancellationToken)
    {
        var cacheDir = Path.Combine(config.Home, "cache", "layer-directories");
        var cacheFile = Path.Combine(cacheDir, digest.Replace(':', '-') + ".txt");
        if (File.Exists(cacheFile))
        {
            return ParseDirectories(await File.ReadAllLinesAsync(cacheFile, cancellationToken).ConfigureAwait(false));
        }

        Directory.CreateDirectory(cacheDir);
        var blob = Path.Combine(cacheDir, ".blob-" + Guid.NewGuid().ToString("N"));
        var lines = new List<string>();
        try
        {
            var file = new FileStream(blob, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            await using (file.ConfigureAwait(false))
            {
                if (await client.DownloadBlobAsync(repository, digest, file, cancellationToken).ConfigureAwait(false) != digest)
                {
                    throw new FlyteSharpException($"layer {digest} of repository {repository} is missing or does not match its digest",
                        fix: "push the dependency image again (flytesharp build --force), then deploy");
                }

                file.Position = 0;
                var gzip = new GZipStream(file, CompressionMode.Decompress);
                await using var gzipDisposal = gzip.ConfigureAwait(false);
                using var tar = new TarReader(gzip);
                while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    if (entry.EntryType == TarEntryType.Directory)
                    {
                        var name = (entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name).TrimStart('/').TrimEnd('/');
                        lines.Add(((int)entry.Mode).ToString(CultureInfo.InvariantCulture) + " " + name);
                    }
                }
            }
        }
        finally
        {
            File.Delete(blob);
        }

        var temp = cacheFile + ".tmp-" + Guid.NewGuid().ToString("N");
        await File.WriteAllLinesAsync(temp, lines, cancellationToken).ConfigureAwait(false);
        File.Move(temp, cacheFile, overwrite: true);
        return ParseDirectories(lines);
    }

    private static Dictionary<string, int> ParseDirectories(IEnumerable<string> lines)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && int.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var mode))
            {
                result[line[(space + 1)..]] = mode;
            }
        }

        return result;
    }

    private static (string DiffId, string Digest, long Size) WriteLayer(
        IReadOnlyList<CodeFile> files, string codeDirectory, IReadOnlyList<(string Path, int Mode)> directories, string path, CancellationToken cancellationToken)
    {
        var prefix = codeDirectory.Trim('/');
        var buffer = new byte[1 << 16];
        using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        using var compressed = new HashingStream(output);
        using var gzip = new DeterministicGzipStream(compressed, 6);
        using var uncompressed = new HashingStream(gzip);
        var tar = new DeterministicTarWriter(uncompressed);
        foreach (var (directory, mode) in directories)
        {
            tar.WriteDirectory(directory, mode);
        }
        foreach (var file in files.OrderBy(f => f.RelativePath, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var source = new FileStream(file.SourceFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0, FileOptions.SequentialScan);
            var size = source.Length;
            tar.BeginFile(prefix.Length == 0 ? file.RelativePath : prefix + "/" + file.RelativePath, file.Executable, size);
            long read = 0;
            while (read < size)
            {
                var n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, size - read));
                if (n == 0)
                {
                    throw new FlyteSharpException("file shrank while its code layer was written", file.SourceFile, fix: "deploy again once the file is no longer being written");
                }

                tar.WriteData(buffer.AsSpan(0, n));
                read += n;
            }

            tar.EndFile(size);
        }

        tar.Finish();
        uncompressed.Flush();
        gzip.Finish();
        compressed.Flush();
        return (uncompressed.Digest(), compressed.Digest(), compressed.BytesWritten);
    }

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    [GeneratedRegex(@"^COPY [^\s]+/ [^\s]+/$", RegexOptions.CultureInvariant)]
    private static partial Regex CopyLine();
}
