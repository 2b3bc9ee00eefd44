using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Files;
using FlyteSharp.Images;
using FlyteSharp.Registry;

namespace FlyteSharp.Building;

/// <summary>
/// Puts an image together through the registry API, without a builder, when everything above its last builder layer is
/// file copies, environment variables and a working directory. The split comes from the image's own instructions (the
/// records its Dockerfile is rendered from): the <b>base</b> is the image made of the layers up to the last one with an
/// instruction only a builder can run (FROM, RUN, a COPY of generated files), resolved on its own, so it has its own
/// content-addressed tag and is built or skipped like any image; each <c>COPY</c> above it becomes one deterministic tar
/// layer (the bundle's tar and gzip writers), <c>ENV</c> and <c>WORKDIR</c> go into the image config with
/// <c>empty_layer</c> history entries, and the manifest lists the base's layers plus the new ones. Same inputs give the
/// same bytes, hence the same manifest digest. A base found in another repository of the registry has its blobs mounted
/// (<see cref="OciRegistryClient.MountBlobAsync"/>).
/// </summary>
internal static class RegistryAssembly
{
    /// <summary>The time of every history entry written here (the layers' files carry the tar writer's fixed mtime, the same moment).</summary>
    public const string Created = "1980-01-01T00:00:00Z";

    /// <summary>The comment of every history entry written here.</summary>
    public const string HistoryComment = "FlyteSharp registry assembly (no builder)";

    private const string OciManifest = OciRegistryClient.OciManifestMediaType;
    private const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    private const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    private const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    private const int DirectoryMode = 0b111_101_101;

    /// <summary>
    /// Puts <paramref name="full"/> into its registry without a builder when its top layers allow it. Returns what was
    /// done, or null when this path does not apply (the caller builds; <paramref name="output"/> says why when it is not obvious).
    /// </summary>
    /// <param name="image">The image definition.</param>
    /// <param name="full">It resolved with <paramref name="options"/>.</param>
    /// <param name="options">The options <paramref name="full"/> was resolved with.</param>
    /// <param name="assembly">Where else the base may be, how to build it, limits.</param>
    /// <param name="output">Receives one line saying what was done, or why not.</param>
    /// <param name="cancellationToken">Stops the uploads.</param>
    public static async Task<RegistryAssemblyResult?> TryPushAsync(
        Image image, ResolvedImage full, ImageResolveOptions options, RegistryAssemblyOptions assembly, Action<string>? output, CancellationToken cancellationToken)
    {
        if (Split(full) is not { } split)
        {
            return null;
        }

        if (BaseOf(image, full, options, split) is not { } @base)
        {
            output?.Invoke($"# registry assembly not used for {full.Uri}: its first {split.BaseLayers} layer(s) resolve differently on their own");
            return null;
        }

        using var client = new OciRegistryClient(full.Registry, options.Config);
        (string Repository, byte[] Manifest)? found;
        var baseBuilt = false;
        try
        {
            if (await client.ManifestExistsAsync(full.Repository, full.Tag, cancellationToken).ConfigureAwait(false))
            {
                return null; // already there (built or pushed before): the build service reports it as skipped-existing
            }

            found = await FindBaseAsync(client, @base, assembly.BaseRepositories, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FlyteSharpException or HttpRequestException)
        {
            // Nothing pushed yet: the build service asks the registry again and reports its own error.
            output?.Invoke($"# registry assembly not used for {full.Uri}: {ex.Message}");
            return null;
        }

        if (found is null)
        {
            if (assembly.EnsureBaseAsync is null)
            {
                return null;
            }

            await assembly.EnsureBaseAsync(@base, cancellationToken).ConfigureAwait(false);
            baseBuilt = true;
            found = await client.GetManifestAsync(@base.Repository, @base.Tag, cancellationToken).ConfigureAwait(false) is { } built
                ? (@base.Repository, built)
                : throw new FlyteSharpException($"the base image {@base.Uri} was built, but the registry has no manifest for it", fix: "check the registry's logs and storage; then deploy again");
        }

        // Folders made on demand (a host publish) are made now, in a folder of this call's, and copied like any other.
        var scratch = Directory.CreateTempSubdirectory("flytesharp-assembly-").FullName;
        try
        {
            var top = new List<ImageInstruction>(split.Top.Count);
            foreach (var instruction in split.Top)
            {
                top.Add(instruction is GeneratedCopyInstruction generated
                    ? await generated.MaterializeAsync(Directory.CreateDirectory(Path.Combine(scratch, top.Count.ToString(CultureInfo.InvariantCulture))).FullName, cancellationToken).ConfigureAwait(false)
                    : instruction);
            }

            var copies = top.OfType<CopyInstruction>().ToList();
            var fileCount = copies.Sum(c => c.Entries.Count);
            var byteCount = copies.SelectMany(c => c.Entries).Sum(e => LengthOf(e.SourceFile!));
            if (fileCount > assembly.Limits.MaxEntries || byteCount > assembly.Limits.MaxTotalBytes)
            {
                output?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"# registry assembly not used for {full.Uri}: its COPY layers hold {fileCount} file(s), {byteCount} bytes, over the limit of {assembly.Limits.MaxEntries} files / {assembly.Limits.MaxTotalBytes} bytes; the builder makes it"));
                return null;
            }

            var (baseRepository, manifestBytes) = found.Value;
            if (JsonNode.Parse(manifestBytes) is not JsonObject manifest)
            {
                return null;
            }

            var manifestType = manifest["mediaType"]?.GetValue<string>() ?? OciManifest;
            if (manifestType is not (OciManifest or DockerManifest) || manifest["config"] is not JsonObject configDescriptor || manifest["layers"] is not JsonArray layers ||
                layers.Any(l => !IsGzipLayer(l?["mediaType"]?.GetValue<string>())))
            {
                output?.Invoke($"# registry assembly not used for {full.Uri}: the base's manifest is an index, another format, or has layers that are not tar+gzip");
                return null;
            }

            var baseUri = $"{full.Registry}/{baseRepository}:{@base.Tag}";
            var configDigest = configDescriptor["digest"]!.GetValue<string>();
            using var configStream = new MemoryStream();
            if (await client.DownloadBlobAsync(baseRepository, configDigest, configStream, cancellationToken).ConfigureAwait(false) is not { } arrived || arrived != configDigest)
            {
                throw new FlyteSharpException($"the config blob {configDigest} of {baseUri} is missing or does not match its digest",
                    fix: "push the base image again (flytesharp build --force), then deploy");
            }

            var config = JsonNode.Parse(configStream.ToArray())!.AsObject();
            var layerDigests = layers.Select(l => l!["digest"]!.GetValue<string>()).ToList();
            var known = await DirectoryModesAsync(client, baseRepository, layerDigests, WantedDirectories(top), options.Config, cancellationToken).ConfigureAwait(false);
            foreach (var copy in copies.Where(c => !c.IsFolder && known.ContainsKey(Relative(c.Destination))))
            {
                output?.Invoke($"# registry assembly not used for {full.Uri}: '{copy.Destination}' is a folder in the base, so a builder copies into it");
                return null;
            }

            // The base's blobs, in this repository: mounted from where the base is (no bytes sent), before anything refers to them.
            var (mounted, copied) = (0, 0);
            if (baseRepository != full.Repository)
            {
                foreach (var digest in layerDigests.Distinct(StringComparer.Ordinal))
                {
                    if (!await client.BlobExistsAsync(full.Repository, digest, cancellationToken).ConfigureAwait(false))
                    {
                        _ = await client.MountBlobAsync(full.Repository, digest, baseRepository, cancellationToken).ConfigureAwait(false) ? mounted++ : copied++;
                    }
                }
            }

            var rootfs = config["rootfs"] as JsonObject ?? throw new FlyteSharpException($"the config of {baseUri} has no rootfs", fix: "rebuild the base image (flytesharp build --force)");
            var diffIds = rootfs["diff_ids"] as JsonArray ?? throw new FlyteSharpException($"the config of {baseUri} has no rootfs.diff_ids", fix: "rebuild the base image (flytesharp build --force)");
            if (config["history"] is not JsonArray history)
            {
                config["history"] = history = [];
            }

            if (config["config"] is not JsonObject runtime)
            {
                config["config"] = runtime = [];
            }

            var (fileLayers, configOnly) = (0, 0);
            foreach (var instruction in top)
            {
                List<(string Path, int Mode)> directories;
                IReadOnlyList<CopiedFile> files;
                switch (instruction)
                {
                    case EnvInstruction env:
                        SetEnv(runtime, env.Variables);
                        history.Add(History(instruction, emptyLayer: true));
                        configOnly++;
                        continue;
                    case WorkdirInstruction workdir:
                        runtime["WorkingDir"] = CleanPath(workdir.Path);
                        directories = MissingDirectories(CleanPath(workdir.Path), known);
                        if (directories.Count == 0)
                        {
                            history.Add(History(instruction, emptyLayer: true));
                            configOnly++;
                            continue;
                        }

                        files = [];
                        break;
                    case CopyInstruction copy:
                        directories = CopyDirectories(copy, known);
                        files = copy.Files;
                        break;
                    default:
                        continue; // comments
                }

                var layerFile = Path.Combine(Path.GetTempPath(), "flytesharp-layer-" + Guid.NewGuid().ToString("N") + ".tar.gz");
                try
                {
                    var (diffId, layerDigest, layerSize) = WriteLayer(directories, files, layerFile, cancellationToken);
                    if (!await client.BlobExistsAsync(full.Repository, layerDigest, cancellationToken).ConfigureAwait(false))
                    {
                        await client.UploadBlobAsync(full.Repository, layerDigest, () => File.OpenRead(layerFile), layerSize, cancellationToken).ConfigureAwait(false);
                    }

                    diffIds.Add(diffId);
                    history.Add(History(instruction, emptyLayer: false));
                    layers.Add(new JsonObject
                    {
                        ["mediaType"] = manifestType == DockerManifest ? DockerLayer : OciLayer,
                        ["digest"] = layerDigest,
                        ["size"] = layerSize,
                    });
                    fileLayers++;
                }
                finally
                {
                    File.Delete(layerFile);
                }
            }

            var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString());
            var newConfigDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(configBytes));
            if (!await client.BlobExistsAsync(full.Repository, newConfigDigest, cancellationToken).ConfigureAwait(false))
            {
                await client.UploadBlobAsync(full.Repository, newConfigDigest, () => new MemoryStream(configBytes), configBytes.Length, cancellationToken).ConfigureAwait(false);
            }

            configDescriptor["digest"] = newConfigDigest;
            configDescriptor["size"] = configBytes.Length;
            var manifestDigest = await client.PutManifestAsync(full.Repository, full.Tag, Encoding.UTF8.GetBytes(manifest.ToJsonString()), manifestType, cancellationToken).ConfigureAwait(false);
            var from = baseRepository == full.Repository ? "" : string.Create(CultureInfo.InvariantCulture, $", {mounted} base blob(s) mounted and {copied} copied from {baseRepository}");
            output?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"# registry assembly: {full.Uri} = {baseUri} + {fileLayers} layer(s) ({fileCount} file(s)) and {configOnly} config-only instruction(s){from}, no builder"));
            return new RegistryAssemblyResult(manifestDigest, baseUri, fileLayers, configOnly, mounted, copied, baseBuilt) { BaseConfigDigest = configDigest };
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
                // A leftover folder in the temp directory is harmless.
            }
        }
    }

    /// <summary>
    /// The base of <paramref name="full"/> for <paramref name="split"/>: its first layers resolved on their own, or null when
    /// a layer's instructions depend on the layers above it (the base alone would not be what the builder builds).
    /// </summary>
    internal static ResolvedImage? BaseOf(Image image, ResolvedImage full, ImageResolveOptions options, (int BaseLayers, IReadOnlyList<ImageInstruction> Top) split)
    {
        var @base = image.Take(split.BaseLayers).Resolve(options);
        var rest = string.Concat(full.Instructions.Where(i => i.Layer >= split.BaseLayers).Select(i => i.Dockerfile + "\n"));
        return @base.Registry != full.Registry || @base.Repository != full.Repository || full.Dockerfile != @base.Dockerfile + rest ? null : @base;
    }

    /// <summary>
    /// How many layers form the base (every layer up to the last one with an instruction only a builder runs) and the
    /// instructions above them, comments left out; null when nothing above the base is left to assemble.
    /// </summary>
    internal static (int BaseLayers, IReadOnlyList<ImageInstruction> Top)? Split(ResolvedImage image)
    {
        var last = image.Instructions.Where(i => i.NeedsBuilder).Select(i => i.Layer).DefaultIfEmpty(-1).Max();
        if (last < 0)
        {
            return null; // no FROM: nothing to build on
        }

        var top = image.Instructions.Where(i => i.Layer > last && i is not DockerfileLine).ToList();
        return top.Count == 0 ? null : (last + 1, top);
    }

    private static async Task<(string Repository, byte[] Manifest)?> FindBaseAsync(OciRegistryClient client, ResolvedImage @base, IReadOnlyList<string> others, CancellationToken cancellationToken)
    {
        foreach (var repository in others.Prepend(@base.Repository).Distinct(StringComparer.Ordinal))
        {
            if (await client.GetManifestAsync(repository, @base.Tag, cancellationToken).ConfigureAwait(false) is { } manifest)
            {
                return (repository, manifest);
            }
        }

        return null;
    }

    private static bool IsGzipLayer(string? mediaType) =>
        mediaType is not null && (mediaType.EndsWith("tar+gzip", StringComparison.Ordinal) || mediaType.EndsWith("tar.gzip", StringComparison.Ordinal));

    private static JsonObject History(ImageInstruction instruction, bool emptyLayer)
    {
        var entry = new JsonObject
        {
            ["created"] = Created,
            ["created_by"] = instruction.Dockerfile.Replace(" \\\n    ", " ", StringComparison.Ordinal),
            ["comment"] = HistoryComment,
        };
        if (emptyLayer)
        {
            entry["empty_layer"] = true;
        }

        return entry;
    }

    /// <summary>Sets each variable as a builder's ENV does: a variable the image has keeps its place with the new value, a new one is appended.</summary>
    private static void SetEnv(JsonObject runtime, IReadOnlyList<KeyValuePair<string, string>> variables)
    {
        if (runtime["Env"] is not JsonArray env)
        {
            runtime["Env"] = env = [];
        }

        foreach (var (name, value) in variables)
        {
            var index = -1;
            for (var i = 0; i < env.Count && index < 0; i++)
            {
                index = (env[i]?.GetValue<string>() ?? "").StartsWith(name + "=", StringComparison.Ordinal) ? i : -1;
            }

            if (index >= 0)
            {
                env[index] = name + "=" + value;
            }
            else
            {
                env.Add(name + "=" + value);
            }
        }
    }

    /// <summary>An absolute path without <c>.</c>, <c>..</c> or doubled slashes (as a builder cleans a WORKDIR): never a <c>..</c> in a layer entry.</summary>
    internal static string CleanPath(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
            }
            else if (part != ".")
            {
                parts.Add(part);
            }
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>A path as it appears in a layer tar: relative to the root, no leading or trailing slash.</summary>
    private static string Relative(string imagePath) => imagePath.Trim('/');

    private static IEnumerable<string> Parents(string relative)
    {
        for (var slash = relative.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = relative.IndexOf('/', slash + 1))
        {
            yield return relative[..slash];
        }
    }

    /// <summary>Every directory the top instructions put files into or create, relative: the ones the base has keep their mode.</summary>
    private static HashSet<string> WantedDirectories(IReadOnlyList<ImageInstruction> top)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instruction in top)
        {
            switch (instruction)
            {
                case WorkdirInstruction workdir when Relative(CleanPath(workdir.Path)).Length > 0:
                    wanted.UnionWith(Parents(Relative(CleanPath(workdir.Path))));
                    wanted.Add(Relative(CleanPath(workdir.Path)));
                    break;
                case CopyInstruction copy:
                    foreach (var file in copy.Files)
                    {
                        wanted.UnionWith(Parents(Relative(file.ImagePath)));
                    }

                    // A single file's destination is looked up too: a folder there means the builder copies into it.
                    wanted.Add(Relative(copy.Destination));
                    break;
            }
        }

        return wanted;
    }

    /// <summary>The workdir and its parents that neither the base nor an earlier assembled layer has, created 0755 as a builder does.</summary>
    private static List<(string Path, int Mode)> MissingDirectories(string path, Dictionary<string, int> known)
    {
        var relative = Relative(path);
        if (relative.Length == 0 || known.ContainsKey(relative))
        {
            return [];
        }

        var result = new List<(string, int)>();
        foreach (var directory in Parents(relative).Append(relative))
        {
            result.Add((directory, known.GetValueOrDefault(directory, DirectoryMode)));
            known.TryAdd(directory, DirectoryMode);
        }

        return result;
    }

    /// <summary>
    /// Every directory a COPY's files sit in, with its parents, as entries of the layer: with the mode the image already
    /// gives it (a builder's COPY keeps an existing folder's mode: <c>/root</c> stays 0700), else 0755. Without these
    /// entries the runtime would create them 0755 in the layer, changing existing ones.
    /// </summary>
    private static List<(string Path, int Mode)> CopyDirectories(CopyInstruction copy, Dictionary<string, int> known)
    {
        var directories = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in copy.Files)
        {
            directories.UnionWith(Parents(Relative(file.ImagePath)));
        }

        if (copy.IsFolder && Relative(copy.Destination).Length > 0)
        {
            directories.UnionWith(Parents(Relative(copy.Destination)));
            directories.Add(Relative(copy.Destination));
        }

        var result = new List<(string, int)>();
        foreach (var directory in directories)
        {
            result.Add((directory, known.GetValueOrDefault(directory, DirectoryMode)));
            known.TryAdd(directory, DirectoryMode);
        }

        return result;
    }

    /// <summary>
    /// The mode of each <paramref name="wanted"/> directory the base has (read from its layers, top down, until all are
    /// found; each layer's directories are read once and cached by layer digest).
    /// </summary>
    private static async Task<Dictionary<string, int>> DirectoryModesAsync(
        OciRegistryClient client, string repository, List<string> layerDigests, HashSet<string> wanted, FlyteConfig config, CancellationToken cancellationToken)
    {
        var modes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = layerDigests.Count - 1; i >= 0 && modes.Count < wanted.Count; i--)
        {
            var directories = await LayerDirectoriesAsync(client, repository, layerDigests[i], config, cancellationToken).ConfigureAwait(false);
            foreach (var path in wanted)
            {
                if (!modes.ContainsKey(path) && directories.TryGetValue(path, out var mode))
                {
                    modes[path] = mode;
                }
            }
        }

        return modes;
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
                        fix: "push the base image again (flytesharp build --force), then deploy");
                }

                file.Position = 0;
                var gzip = new GZipStream(file, CompressionMode.Decompress);
                await using var gzipDisposal = gzip.ConfigureAwait(false);
                using var tar = new TarReader(gzip);
                while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    if (entry.EntryType == TarEntryType.Directory)
                    {
                        var name = (entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name).Trim('/');
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

    /// <summary>
    /// One layer: the directories (sorted, so parents come first), then the files in ordinal path order, written with the
    /// bundle's deterministic tar and gzip writers. Each file is checked again right before it is read: still a regular
    /// file, not replaced by a symlink since the image was resolved (the same rule as the build context).
    /// </summary>
    private static (string DiffId, string Digest, long Size) WriteLayer(
        List<(string Path, int Mode)> directories, IReadOnlyList<CopiedFile> files, string path, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        using var compressed = new HashingStream(output);
        using var gzip = new DeterministicGzipStream(compressed, 6);
        using var uncompressed = new HashingStream(gzip);
        var tar = new DeterministicTarWriter(uncompressed);
        foreach (var (directory, mode) in directories.OrderBy(d => d.Path, StringComparer.Ordinal))
        {
            tar.WriteDirectory(directory, mode);
        }

        foreach (var file in files.OrderBy(f => f.ImagePath, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            CheckStillRegular(file.SourceFile);
            using var source = Open(file.SourceFile);
            var size = source.Length;
            tar.BeginFile(Relative(file.ImagePath), file.Executable, size);
            long read = 0;
            while (read < size)
            {
                var n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, size - read));
                if (n == 0)
                {
                    throw new FlyteSharpException("file shrank while its image layer was written", file.SourceFile, fix: "deploy again once the file is no longer being written");
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

    internal static long LengthOf(string sourceFile)
    {
        try
        {
            return new FileInfo(sourceFile).Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(sourceFile, ex);
        }
    }

    internal static FileStream Open(string sourceFile)
    {
        try
        {
            return new FileStream(sourceFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unreadable(sourceFile, ex);
        }
    }

    private static FlyteSharpException Unreadable(string sourceFile, Exception ex) =>
        new($"cannot read the file for its image layer (it changed after the image was resolved, or is not readable): {ex.Message}", sourceFile,
            fix: "make the file readable and keep it in place while deploying, then run again", inner: ex);

    internal static void CheckStillRegular(string sourceFile)
    {
        if (new FileInfo(sourceFile).LinkTarget is { } linkTarget)
        {
            throw new FlyteSharpException($"'{sourceFile}' was replaced by a symbolic link (to '{linkTarget}') after the image was resolved; it is not copied into the image",
                sourceFile, fix: "resolve the image again (rerun the command)");
        }

        if (UnixStat.TryStat(sourceFile, followLinks: false, out var stat) && !stat.IsRegularFile)
        {
            throw new FlyteSharpException("not a regular file (FIFO, socket or device) any more: it was replaced after the image was resolved", sourceFile,
                fix: "remove it or exclude it in .dockerignore, then run again");
        }
    }
}
