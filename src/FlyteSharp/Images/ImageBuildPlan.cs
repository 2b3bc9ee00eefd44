using System.Text;
using System.Text.RegularExpressions;
using FlyteSharp.Configuration;

namespace FlyteSharp.Images;

/// <summary>
/// A file the build context must contain: copied from disk or written from bytes; or a folder (its path ends in <c>/</c>)
/// that <see cref="Generator"/> fills when the context is written (a host publish, too slow to run for a tag).
/// </summary>
internal sealed record ContextEntry(string Path, string? SourceFile, byte[]? Content, bool Executable, Func<string, CancellationToken, Task>? Generator = null);

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

    private readonly Dictionary<string, ContextEntry> _context = new(StringComparer.Ordinal);
    private readonly StringBuilder _dockerfile = new();

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

    public string Dockerfile => _dockerfile.ToString();

    public IReadOnlyList<ContextEntry> Context => _context.Values.OrderBy(e => e.Path, StringComparer.Ordinal).ToList();

    public void Line(string text) => _dockerfile.Append(text).Append('\n');

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
    public void AddFile(string contextPath, string sourceFile, bool executable) =>
        Add(new ContextEntry(contextPath, Files.FileWalker.RealPath(sourceFile), null, executable));

    public void AddBytes(string contextPath, byte[] content, bool executable = false) =>
        Add(new ContextEntry(contextPath, null, content, executable));

    /// <summary>
    /// A context folder (<paramref name="contextDirectory"/>, without trailing slash) that <paramref name="generate"/> fills
    /// when the build context is written; it gets the folder's full path. Whatever it writes must be a function of what
    /// the layer hashed into the tag.
    /// </summary>
    public void AddGenerated(string contextDirectory, Func<string, CancellationToken, Task> generate) =>
        Add(new ContextEntry(contextDirectory + "/", null, null, false, generate));

    /// <summary>A path inside the image: absolute paths stay, relative ones are taken from the current workdir.</summary>
    public string InImage(string path)
    {
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

    private void Add(ContextEntry entry)
    {
        if (!_context.TryAdd(entry.Path, entry))
        {
            throw new InvalidOperationException($"two layers put '{entry.Path}' into the build context");
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_@%+=:,./-]+$")]
    private static partial Regex SafeToken();
}
