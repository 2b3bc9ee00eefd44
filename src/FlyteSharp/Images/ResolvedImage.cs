using FlyteSharp.Execution.Python;
using FlyteSharp.Runner;

namespace FlyteSharp.Images;

/// <summary>
/// An <see cref="Image"/> resolved against configuration and a copy style: its tag, URI, Dockerfile and
/// the files of its minimal build context.
/// </summary>
public sealed class ResolvedImage
{
    // Made on first use: a tag alone (the image is already built) needs no list of the context's files.
    private readonly Lazy<IReadOnlyList<ContextEntry>> _lazyContext;

    internal ResolvedImage(string tag, string registry, string repository, string dockerfile, Func<IReadOnlyList<ContextEntry>> context,
        CopyStyle copyStyle, string workingDirectory, string pythonExecutable, string? codeDirectory, IReadOnlyList<ImageInstruction> instructions)
    {
        Instructions = instructions;
        Tag = tag;
        Registry = registry;
        Repository = repository;
        Dockerfile = dockerfile;
        _lazyContext = new(context);
        CopyStyle = copyStyle;
        WorkingDirectory = workingDirectory;
        PythonExecutable = pythonExecutable;
        CodeDirectory = codeDirectory;
    }

    private IReadOnlyList<ContextEntry> ContextEntries => _lazyContext.Value;

    /// <summary>The content tag: lower-case MD5 hex of the canonical layer stack (registry and name excluded).</summary>
    public string Tag { get; }

    /// <summary>Registry host (and port), e.g. <c>localhost:5000</c>.</summary>
    public string Registry { get; }

    /// <summary>Repository inside the registry, e.g. <c>team/flytesharp</c> (any registry path prefix plus the image name).</summary>
    public string Repository { get; }

    /// <summary><c>{Registry}/{Repository}:{Tag}</c>.</summary>
    public string Uri => $"{Registry}/{Repository}:{Tag}";

    /// <summary>The rendered Dockerfile (BuildKit syntax: cache and bind mounts).</summary>
    public string Dockerfile { get; }

    /// <summary>The copy style this image was resolved for.</summary>
    public CopyStyle CopyStyle { get; }

    /// <summary>The image's final working directory.</summary>
    public string WorkingDirectory { get; }

    /// <summary>The Python interpreter of the image's venv (on PATH as <c>python</c>).</summary>
    public string PythonExecutable { get; }

    /// <summary>The image's virtual environment.</summary>
    public string VirtualEnvironment { get; } = ImageBuildPlan.VirtualEnv;

    /// <summary>Where FlyteSharp's Python runner is in the image.</summary>
    public string RunnerPath { get; } = PythonRunnerScript.ImagePath;

    /// <summary>Where the code bundle was copied (full build), or null when code travels per run.</summary>
    public string? CodeDirectory { get; }

    /// <summary>
    /// The build context's files (POSIX paths relative to the context root, sorted), the Dockerfile included. A path ending in
    /// <c>/</c> is a folder filled when the context is written (a .NET project layer's host publish).
    /// </summary>
    public IReadOnlyList<string> ContextFiles => ["Dockerfile", .. ContextEntries.Select(e => e.Path)];

    /// <summary>The instructions the <see cref="Dockerfile"/> was rendered from, each with the index of the layer that added it.</summary>
    internal IReadOnlyList<ImageInstruction> Instructions { get; }

    /// <summary>
    /// Writes the Dockerfile and the minimal build context into <paramref name="directory"/>, which must not exist or be empty.
    /// The context is assembled in a sibling temporary folder and renamed into place, so a failure leaves nothing half-written.
    /// </summary>
    /// <exception cref="FlyteSharpException">The directory exists and is not empty.</exception>
    public async Task WriteBuildContextAsync(string directory, CancellationToken cancellationToken = default)
    {
        var target = Path.GetFullPath(directory);
        if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
        {
            throw new FlyteSharpException("build context directory is not empty", target, fix: "choose a new or empty directory");
        }

        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(target))!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(Path.TrimEndingDirectorySeparator(target))}.tmp-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(temp);
            await File.WriteAllTextAsync(Path.Combine(temp, "Dockerfile"), Dockerfile, cancellationToken).ConfigureAwait(false);
            foreach (var entry in ContextEntries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = Path.Combine(temp, entry.Path.Replace('/', Path.DirectorySeparatorChar));
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                if (entry.Generator is not null)
                {
                    await entry.Generator(path, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (entry.Content is not null)
                {
                    await File.WriteAllBytesAsync(path, entry.Content, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // Sources were recorded by their real path; a link there now means the tree changed under us.
                    if (new FileInfo(entry.SourceFile!).LinkTarget is { } linkTarget)
                    {
                        throw new FlyteSharpException($"'{entry.SourceFile}' was replaced by a symbolic link (to '{linkTarget}') after the image was resolved; it is not copied into the build context",
                            entry.SourceFile, fix: "resolve the image again (rerun the command)");
                    }

                    var source = new FileStream(entry.SourceFile!, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
                    await using var sourceDisposal = source.ConfigureAwait(false);
                    var destination = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                    await using var destinationDisposal = destination.ConfigureAwait(false);
                    await source.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
                }

                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, entry.Executable
                        ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                        : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                }
            }

            if (Directory.Exists(target))
            {
                Directory.Delete(target); // empty, checked above
            }

            Directory.Move(temp, target);
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            throw;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Uri;
}
