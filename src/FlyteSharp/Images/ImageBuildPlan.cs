using System.Text.RegularExpressions;
using System.Text;
using FlyteSharp.Configuration;
using FlyteSharp.Files;

namespace FlyteSharp.Images;

/// <summary>
/// Accumulates what resolving an image produces, layer by layer: the tag's token stream, the Dockerfile
/// and the build-context files. Context paths never contain absolute host paths, so the Dockerfile and
/// tag are the same wherever the project is checked out.
/// </summary>
internal sealed partial class ImageBuildPlan : IDisposable
{
    /// <summary>Prefix of everything FlyteSharp puts into a build context.</summary>
    public const string ContextPrefix = ".flytesharp";

    /// <summary>The virtual environment every FlyteSharp Python image puts on PATH.</summary>
    public const string VirtualEnv = "/opt/venv";

    /// <summary>Bump when the rendering changes in a way that must produce new tags.</summary>
    public const string FormatVersion = "flytesharp-image/1";

    // A list, not a dictionary keyed by path: a dictionary of thousands of entries lands on the large object heap on every
    // warm tag and drags in gen-2 collections; duplicates are found once, after sorting. Walked folders stay one part each
    // (their files' entries are made when the context is asked for: a warm tag that finds its image built never asks).
    private readonly List<(ContextEntry? Entry, string? Directory, IReadOnlyList<SelectedFile>? Files)> _context = [];
    private readonly List<ImageInstruction> _instructions = [];

    public ImageBuildPlan(ImageResolveOptions options, FileDigestCache cache, DockerIgnore ignore)
    {
        Options = options;
        Cache = cache;
        Ignore = ignore;
        Hash.Begin(FormatVersion);
        Hash.End();
    }

    public ImageResolveOptions Options { get; }

    public FlyteConfig Config => Options.Config;

    public FileDigestCache Cache { get; }

    /// <summary>Ignore rules from every <c>WithDockerignore</c> layer; they apply to all copied folders.</summary>
    public DockerIgnore Ignore { get; }

    public CanonicalHasher Hash { get; } = new();

    /// <summary>0-based index of the layer being applied.</summary>
    public int LayerIndex { get; set; }

    /// <summary>The image's working directory after the layers applied so far.</summary>
    public string Workdir { get; set; } = "/";

    /// <summary>Where full-build code lands in the image, if it does.</summary>
    public string? CodeDirectory { get; set; }

    /// <summary>The Python interpreter of the image.</summary>
    public string PythonExecutable { get; set; } = VirtualEnv + "/bin/python";

    /// <summary>A per-layer folder in the context, e.g. <c>.flytesharp/layers/2-uv</c>.</summary>
    public string LayerDirectory(string kind) => $"{ContextPrefix}/layers/{LayerIndex}-{kind}";

    /// <summary>The mount that makes <c>uv</c> available to one RUN without leaving it in the image.</summary>
    public string UvMount => $"--mount=from={Config.UvImage},source=/uv,target=/usr/local/bin/uv";

    /// <summary>The shared uv download cache.</summary>
    public const string UvCacheMount = "--mount=type=cache,target=/root/.cache/uv,id=flytesharp-uv";

    /// <summary>The Dockerfile, rendered from <see cref="Instructions"/>.</summary>
    public string Dockerfile
    {
        get
        {
            var text = new StringBuilder();
            foreach (var instruction in _instructions)
            {
                text.Append(instruction.Dockerfile).Append('\n');
            }

            return text.ToString();
        }
    }

    /// <summary>Every instruction so far, in order, each with the index of the layer that added it.</summary>
    public IReadOnlyList<ImageInstruction> Instructions => _instructions;

    /// <summary>The build context, sorted by path.</summary>
    /// <exception cref="InvalidOperationException">Two layers put the same path into the context.</exception>
    public IReadOnlyList<ContextEntry> Context
    {
        get
        {
            var entries = new List<ContextEntry>();
            foreach (var (entry, directory, files) in _context)
            {
                if (entry is not null)
                {
                    entries.Add(entry);
                    continue;
                }

                entries.AddRange(EntriesOf(directory!, files!));
            }

            var sorted = SortedOrdinal(entries, e => e.Path);
            for (var i = 1; i < sorted.Count; i++)
            {
                if (sorted[i - 1].Path == sorted[i].Path)
                {
                    throw new InvalidOperationException($"two layers put '{sorted[i].Path}' into the build context");
                }
            }

            return sorted;
        }
    }

    /// <summary>
    /// Sorts <paramref name="items"/> ordinally by <paramref name="key"/>, stably (equal keys keep their order). Layers add files in walk
    /// order, so the list is a few sorted runs (one per layer or tree): merging the runs costs one linear pass per doubling instead of a
    /// full sort on every warm tag.
    /// </summary>
    internal static List<T> SortedOrdinal<T>(List<T> items, Func<T, string> key)
    {
        var runs = new List<int> { 0 };
        for (var i = 1; i < items.Count; i++)
        {
            if (string.CompareOrdinal(key(items[i - 1]), key(items[i])) > 0)
            {
                runs.Add(i);
            }
        }

        if (runs.Count > 8)
        {
            return items.OrderBy(key, StringComparer.Ordinal).ToList();
        }

        runs.Add(items.Count);
        while (runs.Count > 2)
        {
            var merged = new List<T>(items.Count);
            var bounds = new List<int> { 0 };
            for (var r = 0; r + 1 < runs.Count; r += 2)
            {
                var (a, aEnd) = (runs[r], runs[r + 1]);
                var (b, bEnd) = r + 2 < runs.Count ? (runs[r + 1], runs[r + 2]) : (aEnd, aEnd);
                while (a < aEnd && b < bEnd)
                {
                    merged.Add(string.CompareOrdinal(key(items[a]), key(items[b])) <= 0 ? items[a++] : items[b++]);
                }

                for (; a < aEnd; a++)
                {
                    merged.Add(items[a]);
                }

                for (; b < bEnd; b++)
                {
                    merged.Add(items[b]);
                }

                bounds.Add(merged.Count);
            }

            (items, runs) = (merged, bounds);
        }

        return items;
    }

    /// <summary>A Dockerfile line only a builder carries out (or a comment).</summary>
    public void Line(string text) => Add(new DockerfileLine(text));

    /// <summary>Copies <paramref name="files"/> (already selected) into <paramref name="destination"/> through the context folder <paramref name="contextDirectory"/>.</summary>
    public void CopyFolder(string contextDirectory, string destination, IReadOnlyList<SelectedFile> files)
    {
        var copied = AddFiles(contextDirectory, files);
        Add(new CopyInstruction(contextDirectory, destination, IsFolder: true, new(() => EntriesOf(contextDirectory, copied))));
    }

    /// <summary>Copies one file to <paramref name="destination"/> (its path in the image) through <paramref name="contextPath"/>.</summary>
    public void CopyFile(string contextPath, string destination, string sourceFile, bool executable)
    {
        var entry = AddFile(contextPath, sourceFile, executable);
        Add(new CopyInstruction(contextPath, destination, IsFolder: false, new([entry])));
    }

    /// <summary>Sets environment variables to literal values.</summary>
    public void Env(IReadOnlyList<KeyValuePair<string, string>> variables) => Add(new EnvInstruction(variables));

    /// <summary>Sets the working directory (an absolute path).</summary>
    public void SetWorkdir(string path)
    {
        Add(new WorkdirInstruction(path));
        Workdir = path;
    }

    /// <summary>A RUN instruction with mounts, one per continuation line.</summary>
    public void Run(IEnumerable<string> mounts, string command)
    {
        var parts = mounts.ToList();
        if (parts.Count == 0)
        {
            Line("RUN " + command);
            return;
        }

        Line("RUN " + string.Join(" \\\n    ", parts) + " \\\n    " + command);
    }

    /// <summary>
    /// A file of the build context, kept by its real path (symlinks resolved): the context writer then copies exactly the
    /// file that was hashed, and refuses it if it was replaced by a symlink in between.
    /// </summary>
    /// <param name="contextPath">Where it goes in the context.</param>
    /// <param name="sourceFile">The file on disk.</param>
    /// <param name="executable">Whether it is copied executable.</param>
    /// <param name="isRealPath">True when <paramref name="sourceFile"/> is known to hold no symlink (a file from <see cref="FileSelector"/>): resolving
    /// it again would cost a readlink per path component per file, the largest part of a warm tag.</param>
    public ContextEntry AddFile(string contextPath, string sourceFile, bool executable, bool isRealPath = false)
    {
        var entry = new ContextEntry(contextPath, isRealPath ? sourceFile : Files.FileWalker.RealPath(sourceFile), null, executable);
        Add(entry);
        return entry;
    }

    /// <summary>
    /// The files of one walked folder, each copied to <paramref name="contextDirectory"/> plus its relative path (the context
    /// root when empty). A file not known to be at its real path is resolved now, as <see cref="AddFile"/> does.
    /// </summary>
    /// <returns>The files as they will be copied (each at its real path).</returns>
    public IReadOnlyList<SelectedFile> AddFiles(string contextDirectory, IReadOnlyList<SelectedFile> files)
    {
        IReadOnlyList<SelectedFile> real = files.All(f => f.IsRealPath)
            ? files
            : [.. files.Select(f => f.IsRealPath ? f : f with { FullPath = Files.FileWalker.RealPath(f.FullPath), IsRealPath = true })];
        _context.Add((null, contextDirectory, real));
        return real;
    }

    public void AddBytes(string contextPath, byte[] content, bool executable = false) =>
        Add(new ContextEntry(contextPath, null, content, executable));

    /// <summary>
    /// A context folder (<paramref name="contextDirectory"/>, without trailing slash) that <paramref name="generate"/> fills
    /// when the build context is written; it gets the folder's full path. Whatever it writes must be a function of what
    /// the layer hashed into the tag.
    /// </summary>
    public void AddGenerated(string contextDirectory, Func<string, CancellationToken, Task> generate) =>
        Add(new ContextEntry(contextDirectory + "/", null, null, false, generate));

    /// <summary>
    /// Copies a context folder that <paramref name="generate"/> fills when it is needed (<see cref="AddGenerated"/>) into
    /// <paramref name="destination"/>; unlike a <see cref="Line"/> with a COPY, the registry assembly can carry it out.
    /// </summary>
    public void CopyGenerated(string contextDirectory, string destination, Func<string, CancellationToken, Task> generate)
    {
        AddGenerated(contextDirectory, generate);
        Add(new GeneratedCopyInstruction(contextDirectory, destination, generate));
    }

    /// <summary>A path inside the image: absolute paths stay, relative ones are taken from the current workdir.</summary>
    public string InImage(string path)
    {
        CheckLiteralPath(path, "path in the image");
        var combined = path.StartsWith('/') ? path : Workdir.TrimEnd('/') + "/" + path;
        var parts = new List<string>();
        foreach (var part in combined.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(part);
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>A token safe to put into a shell command line: bare when harmless, otherwise single-quoted.</summary>
    public static string ShellQuote(string token) =>
        SafeToken().IsMatch(token) ? token : "'" + token.Replace("'", "'\"'\"'") + "'";

    /// <summary>A value for an <c>ENV</c> instruction, double-quoted with Dockerfile escapes.</summary>
    public static string DockerQuote(string value) =>
        "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("$", "\\$") + "\"";

    public void Dispose() => Hash.Dispose();

    private static IReadOnlyList<ContextEntry> EntriesOf(string contextDirectory, IReadOnlyList<SelectedFile> files) =>
        [.. files.Select(f => new ContextEntry(contextDirectory.Length == 0 ? f.RelativePath : contextDirectory + "/" + f.RelativePath, f.FullPath, null, f.Executable))];

    private void Add(ContextEntry entry)
    {
        _context.Add((entry, null, null));
    }

    private void Add(ImageInstruction instruction) => _instructions.Add(instruction with { Layer = LayerIndex });

    /// <summary>
    /// Refuses a path in the image that a Dockerfile would not take literally: COPY splits it at whitespace, COPY and
    /// WORKDIR expand <c>$NAME</c>, and quotes and backslashes are the builder's to interpret. Such a path would give a
    /// built image that differs from the one assembled through the registry API (and from what the tag describes).
    /// </summary>
    /// <param name="path">The path as given (workdir, destination, or a folder name that becomes one).</param>
    /// <param name="what">What the path is, for the message.</param>
    public static void CheckLiteralPath(string path, string what)
    {
        var bad = path.FirstOrDefault(c => char.IsWhiteSpace(c) || c is '$' or '"' or '\'' or '`' or '\\');
        if (bad != default)
        {
            throw new FlyteSharpException(
                $"{what} '{path}' holds {(char.IsWhiteSpace(bad) ? "whitespace" : $"'{bad}'")}, which a Dockerfile would not take literally (COPY splits at whitespace, $NAME is expanded)",
                fix: "use a path of letters, digits and - _ . / @ + = : , (give WithSourceFolder/WithSourceFile an explicit destination when the folder's own name has such characters)");
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_@%+=:,./-]+$")]
    private static partial Regex SafeToken();
}
