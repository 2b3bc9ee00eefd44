using System.Text.Json;
using FlyteSharp.Building;
using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Images;
using FlyteSharp.Processes;

namespace FlyteSharp.Deploy;

/// <summary>
/// What a deploy's task check runs on before the deployed image exists: the image's base (everything up to its last
/// builder layer, <see cref="RegistryAssembly.Split"/>), taken from local storage by its ID, plus a tar of exactly the
/// files of its <c>COPY</c> layers (read with the layer writer's rules) that the check's container unpacks over the base
/// before the runner starts, and the <c>ENV</c>/<c>WORKDIR</c> of the same instruction records. So the container sees the
/// files, environment and working directory the deployed image will have, with nothing of the host mounted. It stands
/// for the deployed image only once <see cref="DeployCheck"/> has confirmed that the image was made on this very base.
/// </summary>
/// <param name="Full">The image being deployed.</param>
/// <param name="BaseUri">Its base's reference.</param>
/// <param name="BaseId">The local base image's ID (its config digest).</param>
/// <param name="BaseLayers">The local base image's layer diff IDs.</param>
/// <param name="CodeTar">The tar of the <c>COPY</c> layers' files (paths relative to <c>/</c>).</param>
/// <param name="Env">The <c>ENV</c> variables above the base, in order (later ones win).</param>
/// <param name="WorkingDirectory">The last <c>WORKDIR</c> above the base, or null.</param>
/// <param name="Sources">Each file read into <paramref name="CodeTar"/> with its size and modification time before it was read.</param>
internal sealed record StagedCheckImage(
    ResolvedImage Full, string BaseUri, string BaseId, IReadOnlyList<string> BaseLayers, string CodeTar,
    IReadOnlyList<KeyValuePair<string, string>> Env, string? WorkingDirectory, IReadOnlyList<(string Path, long Length, DateTime Modified)> Sources)
{
    /// <summary>
    /// Whether every file is still as it was before the check read it: then the image, whose layer was written from the
    /// same files meanwhile, holds the bytes the check saw. A file edited during the deploy sends the check to the deployed image.
    /// </summary>
    public bool SourcesUnchanged() => Sources.All(s =>
    {
        var info = new FileInfo(s.Path);
        return info.Exists && info.Length == s.Length && info.LastWriteTimeUtc == s.Modified;
    });

    /// <summary>
    /// The staged check image of <paramref name="full"/>, or null when the check must wait for the deployed image: its top
    /// layers need a builder, its base is not in local storage, or its files are over the code layer's limits.
    /// </summary>
    /// <param name="image">The image definition.</param>
    /// <param name="full">It resolved for the deploy.</param>
    /// <param name="options">The options it was resolved with.</param>
    /// <param name="runtime">The container runtime (<c>podman</c> or <c>docker</c>).</param>
    /// <param name="directory">Where the tar is written (the check's sandbox).</param>
    /// <param name="cancellationToken">Stops the look-up.</param>
    public static async Task<StagedCheckImage?> TryPrepareAsync(
        Image image, ResolvedImage full, ImageResolveOptions options, string runtime, string directory, CancellationToken cancellationToken) =>
        TryStage(image, full, options, directory, cancellationToken) is { } staged
            ? await staged.WithLocalBaseAsync(runtime, cancellationToken).ConfigureAwait(false)
            : null;

    /// <summary>
    /// The first half of <see cref="TryPrepareAsync"/>, without the container runtime: the code's tar, environment and
    /// working directory, with an empty <see cref="BaseId"/> until <see cref="WithLocalBaseAsync"/>. So the tar can be
    /// digested while local storage is asked for the base.
    /// </summary>
    public static StagedCheckImage? TryStage(Image image, ResolvedImage full, ImageResolveOptions options, string directory, CancellationToken cancellationToken)
    {
        if (full.CodeDirectory is null || RegistryAssembly.Split(full) is not { } split || RegistryAssembly.BaseOf(image, full, options, split) is not { } @base)
        {
            return null;
        }

        // Files made on demand (a host publish of .NET assemblies) are not made twice for the check: the deployed image answers.
        if (split.Top.Any(i => i is not (CopyInstruction or EnvInstruction or WorkdirInstruction)))
        {
            return null;
        }

        var copies = split.Top.OfType<CopyInstruction>().ToList();
        var limits = ExtractionLimits.Default;
        if (copies.Sum(c => c.Entries.Count) > limits.MaxEntries || copies.SelectMany(c => c.Entries).Sum(e => RegistryAssembly.LengthOf(e.SourceFile!)) > limits.MaxTotalBytes)
        {
            return null;
        }

        var env = new List<KeyValuePair<string, string>>();
        string? workdir = null;
        foreach (var instruction in split.Top)
        {
            switch (instruction)
            {
                case EnvInstruction e:
                    env.AddRange(e.Variables);
                    break;
                case WorkdirInstruction w:
                    workdir = RegistryAssembly.CleanPath(w.Path);
                    break;
            }
        }

        var tar = Path.Combine(directory, "code-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)) + ".tar");
        var sources = WriteTar(copies, tar, cancellationToken);

        // The tag was computed from the files before the tar read them: a file edited in between would put code in the
        // check that the image (already in local storage under that tag, or made from the tag's files) does not hold.
        // Tagged again now, any such edit changes the tag; later edits are caught by SourcesUnchanged.
        if (!string.Equals(image.Resolve(options).Uri, full.Uri, StringComparison.Ordinal))
        {
            File.Delete(tar);
            return null;
        }

        return new StagedCheckImage(full, @base.Uri, "", [], tar, env, workdir, sources);
    }

    /// <summary>This staged image with its base's local ID and layers; null when local storage does not have the base.</summary>
    public async Task<StagedCheckImage?> WithLocalBaseAsync(string runtime, CancellationToken cancellationToken) =>
        await LocalImageAsync(runtime, BaseUri, cancellationToken).ConfigureAwait(false) is { } local
            ? this with { BaseId = local.Id, BaseLayers = local.Layers }
            : null;

    /// <summary>A local image's ID (<c>sha256:…</c>) and layer diff IDs; null when local storage does not have it.</summary>
    internal static async Task<(string Id, IReadOnlyList<string> Layers)?> LocalImageAsync(string runtime, string imageUri, CancellationToken cancellationToken)
    {
        var inspect = await CliProcess.RunAsync(runtime, ["image", "inspect", "--format", "{{.Id}} {{json .RootFS.Layers}}", imageUri], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!inspect.Succeeded)
        {
            return null;
        }

        var line = inspect.StandardOutput.Trim();
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return null;
        }

        try
        {
            var layers = JsonSerializer.Deserialize<List<string>>(line[(space + 1)..]);
            return layers is null ? null : (Digest(line[..space]), layers);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An image ID or digest in the <c>sha256:…</c> form (podman prints IDs without the algorithm).</summary>
    internal static string Digest(string id) => id.Contains(':', StringComparison.Ordinal) ? id : "sha256:" + id;

    /// <summary>
    /// The files of every <c>COPY</c>, in instruction order (a later one overwrites an earlier one, as its layer does), each
    /// with the layer's mode and checked again right before it is read, as the layer writer does. No directory entries:
    /// the unpacking creates missing folders (mode 0755, as the assembled layers do) and leaves the base's own alone.
    /// </summary>
    private static List<(string Path, long Length, DateTime Modified)> WriteTar(IReadOnlyList<CopyInstruction> copies, string path, CancellationToken cancellationToken)
    {
        var sources = new List<(string Path, long Length, DateTime Modified)>();
        var buffer = new byte[1 << 16];
        using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        var tar = new DeterministicTarWriter(output);
        foreach (var file in copies.SelectMany(c => c.Files.OrderBy(f => f.ImagePath, StringComparer.Ordinal)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            RegistryAssembly.CheckStillRegular(file.SourceFile);
            var before = new FileInfo(file.SourceFile);
            sources.Add((file.SourceFile, before.Length, before.LastWriteTimeUtc));
            using var source = RegistryAssembly.Open(file.SourceFile);
            var size = source.Length;
            tar.BeginFile(RegistryAssembly.CleanPath(file.ImagePath).Trim('/'), file.Executable, size);
            long read = 0;
            while (read < size)
            {
                var n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, size - read));
                if (n == 0)
                {
                    throw new FlyteSharpException("file shrank while the deploy check read it", file.SourceFile, fix: "deploy again once the file is no longer being written");
                }

                tar.WriteData(buffer.AsSpan(0, n));
                read += n;
            }

            tar.EndFile(size);
        }

        tar.Finish();
        output.Flush();
        return sources;
    }
}
