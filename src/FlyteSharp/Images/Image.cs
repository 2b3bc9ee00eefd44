using System.Text.RegularExpressions;
using FlyteSharp.Bundles;
using FlyteSharp.Files;
using FlyteSharp.Projects.Dotnet;
using FlyteSharp.Projects.Uv;

namespace FlyteSharp.Images;

/// <summary>
/// A frozen, content-addressed stack of image layers (the seed's <c>flyte.Image</c>). Every <c>With…</c>
/// returns a new image and leaves the receiver unchanged. <see cref="Resolve(ImageResolveOptions)"/> turns the stack into a
/// tag (MD5 over a canonical serialization of the layers and the bytes of the files they read), a URI, a
/// Dockerfile and a minimal build context. Describe only the environment here; your code travels in the
/// code bundle (<see cref="WithCodeBundle"/>).
/// </summary>
/// <example>
/// <code>
/// var image = Image.FromDebianBase()
///     .WithUvProject(SourceLocation.Combine("../pyproject.toml"), extraArgs: "--only-group etl")
///     .WithCodeBundle();
/// </code>
/// </example>
public sealed partial class Image
{
    private readonly ImageLayer[] _layers;

    private Image(ImageLayer[] layers, string? registry, string? name)
    {
        _layers = layers;
        Registry = registry;
        Name = name;
    }

    /// <summary>The layers, base first.</summary>
    public IReadOnlyList<ImageLayer> Layers => _layers;

    /// <summary>The registry set with <see cref="Clone"/>, or null to use <c>FlyteConfig.Registry</c>.</summary>
    public string? Registry { get; }

    /// <summary>The repository name set with <see cref="Clone"/>, or null to use <c>FlyteConfig.ImageName</c>.</summary>
    public string? Name { get; }

    /// <summary>The Python version of a <see cref="FromDebianBase"/> image, otherwise null.</summary>
    public string? PythonVersion => (_layers[0] as BaseImageLayer)?.PythonVersion;

    /// <summary>The configured Python base image (<c>FlyteConfig.PythonBaseImage</c>, default <c>python:{python}-slim-bookworm</c>).</summary>
    /// <param name="pythonVersion">Major.minor, e.g. <c>3.12</c>.</param>
    public static Image FromDebianBase(string pythonVersion = "3.12")
    {
        if (!PythonVersionPattern().IsMatch(pythonVersion))
        {
            throw new FlyteSharpException($"Python version '{pythonVersion}' is not of the form 3.12", fix: "pass e.g. \"3.12\"");
        }

        return new([new BaseImageLayer(null, pythonVersion)], null, null);
    }

    /// <summary>
    /// A .NET runtime base (<c>FlyteConfig.DotnetBaseImage</c>, <c>[images] dotnet_base</c>, default
    /// <c>mcr.microsoft.com/dotnet/runtime:{version}</c>) carrying FlyteSharp's .NET worker. In container and Kubernetes
    /// modes the C# tasks of an environment with such an image run in it, with the environment's resources; the user's
    /// assemblies travel per run as the .NET code bundle.
    /// </summary>
    /// <param name="version">The .NET version (major.minor), e.g. <c>10.0</c>; replaces <c>{version}</c> in the configured base.</param>
    public static Image FromDotnetBase(string version = "10.0")
    {
        if (!DotnetVersionPattern().IsMatch(version ?? ""))
        {
            throw new FlyteSharpException($".NET version '{version}' is not of the form 10.0", fix: "pass e.g. \"10.0\"");
        }

        return new([new DotnetBaseImageLayer(version!)], null, null);
    }

    /// <summary>True when the image carries FlyteSharp's .NET worker, so its C# tasks can run outside the driver.</summary>
    internal bool HasDotnetWorker => _layers[0] is DotnetBaseImageLayer;

    /// <summary>The image's <see cref="WithDotnetProject"/> layer, or null (a full build bakes that project's assemblies in).</summary>
    internal DotnetProjectLayer? DotnetProject => _layers.OfType<DotnetProjectLayer>().FirstOrDefault();

    /// <summary>The .NET version of a <see cref="FromDotnetBase"/> image, otherwise null.</summary>
    internal string? DotnetVersion => (_layers[0] as DotnetBaseImageLayer)?.DotnetVersion;

    /// <summary>
    /// The <see cref="AppContext"/> switch the .NET worker sets: image definitions in user code describe files of the
    /// driver's machine, which a container does not have and builds no image from, so methods that read files skip it.
    /// </summary>
    internal const string DefinitionsOnlySwitch = "FlyteSharp.Images.DefinitionsOnly";

    /// <summary>True inside the .NET worker (see <see cref="DefinitionsOnlySwitch"/>).</summary>
    internal static bool DefinitionsOnly => AppContext.TryGetSwitch(DefinitionsOnlySwitch, out var on) && on;

    /// <summary>Your own base image, which must have <c>python3</c>; FlyteSharp adds its venv and runner.</summary>
    /// <param name="uri">An image reference, e.g. <c>localhost/debian-python:bookworm</c>.</param>
    public static Image FromBase(string uri)
    {
        if (string.IsNullOrWhiteSpace(uri) || !OciReference.IsValidImage(uri))
        {
            throw new FlyteSharpException($"base image '{uri}' is not a valid image reference", fix: "use e.g. \"python:3.12-slim-bookworm\" or \"registry:5000/team/base:1.0\"");
        }

        return new([new BaseImageLayer(uri, null)], null, null);
    }

    /// <summary>Your own Dockerfile as the base; its folder is its build context (see <see cref="DockerfileBaseLayer"/>).</summary>
    /// <param name="path">Path of the Dockerfile.</param>
    public static Image FromDockerfile(string path)
    {
        if (DefinitionsOnly)
        {
            return new([new DockerfileBaseLayer(Path.GetFullPath(path))], null, null);
        }

        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FlyteSharpException("Dockerfile not found", full, fix: "check the path given to Image.FromDockerfile");
        }

        return new([new DockerfileBaseLayer(full)], null, null);
    }

    /// <summary>A copy with a different registry, repository name or Python version (none of which changes the layers' identity except the Python version).</summary>
    /// <param name="registry">Registry host and optional path prefix, e.g. <c>ghcr.io/my-org</c>.</param>
    /// <param name="name">Repository name, e.g. <c>etl</c>.</param>
    /// <param name="pythonVersion">A new Python version for a <see cref="FromDebianBase"/> image.</param>
    public Image Clone(string? registry = null, string? name = null, string? pythonVersion = null)
    {
        if (registry is not null && !OciReference.IsValidRegistry(registry))
        {
            throw new FlyteSharpException($"registry '{registry}' is not a valid OCI registry reference", fix: "use host[:port][/path], e.g. \"localhost:5000\" or \"ghcr.io/my-org\"");
        }

        if (name is not null && !OciReference.IsValidRepository(name))
        {
            throw new FlyteSharpException($"image name '{name}' is not a valid OCI repository name", fix: "use lower-case letters, digits and . _ - separated by /, e.g. \"my-team/etl\"");
        }

        var layers = _layers;
        if (pythonVersion is not null)
        {
            if (_layers[0] is not BaseImageLayer { Uri: null })
            {
                throw new FlyteSharpException("only an Image.FromDebianBase() image has a Python version to change", fix: "drop pythonVersion, or start from Image.FromDebianBase(version)");
            }

            layers = [FromDebianBase(pythonVersion)._layers[0], .. _layers.Skip(1)];
        }

        return new(layers, registry ?? Registry, name ?? Name);
    }

    /// <summary>
    /// Installs a uv project's dependencies (the seed's <c>with_uv_project</c>). The project is read now:
    /// a missing or malformed <c>pyproject.toml</c>, an unknown dependency group in <paramref name="extraArgs"/>,
    /// conflicting group flags or a missing path dependency fail here.
    /// </summary>
    /// <param name="pyprojectFile">Path of <c>pyproject.toml</c>.</param>
    /// <param name="uvLock">Path of the lock file; by default <c>uv.lock</c> next to pyproject.toml when it exists.</param>
    /// <param name="extraArgs">Extra <c>uv sync</c> arguments, e.g. <c>--only-group etl</c>; part of the tag.</param>
    /// <param name="installMode">Dependencies only (default) or the whole project.</param>
    /// <param name="indexUrl">The default package index, if not PyPI.</param>
    /// <param name="extraIndexUrls">Additional package indexes.</param>
    public Image WithUvProject(string pyprojectFile, string? uvLock = null, string? extraArgs = null,
        UvInstallMode installMode = UvInstallMode.DependenciesOnly, string? indexUrl = null, IReadOnlyList<string>? extraIndexUrls = null)
    {
        if (DefinitionsOnly)
        {
            return this;
        }

        var project = UvProject.Load(pyprojectFile);
        string? lockFile;
        if (uvLock is not null)
        {
            lockFile = Path.GetFullPath(uvLock);
            if (!File.Exists(lockFile))
            {
                throw new FlyteSharpException("uv.lock not found", lockFile, fix: $"run `uv lock` in {project.Directory}, or omit uvLock to build without a lock");
            }
        }
        else
        {
            lockFile = Path.Combine(project.Directory, "uv.lock");
            lockFile = File.Exists(lockFile) ? lockFile : null;
        }

        if (lockFile is not null)
        {
            UvLock.Load(lockFile); // a malformed lock fails now, not in the image build
        }

        return Append(new UvProjectLayer(project, lockFile, string.IsNullOrWhiteSpace(extraArgs) ? null : extraArgs.Trim(), installMode, indexUrl, extraIndexUrls ?? []));
    }

    /// <summary>
    /// Puts a C# project's NuGet dependencies into the image (the .NET side of the seed's <c>with_uv_project</c>). The
    /// project is read now: a missing or malformed project file, a missing <c>ProjectReference</c>, several target
    /// frameworks or a framework no .NET runtime image runs (netstandard) fail here. The files come from a
    /// <c>dotnet publish</c> on this machine when the image is built (the SDK is needed here, not in the image); a project
    /// that does not compile then fails with the compiler's errors before anything is built.
    /// </summary>
    /// <param name="csprojPath">Path of the project (<c>.csproj</c>) whose tasks run in this image.</param>
    /// <param name="installMode">Dependencies only (default: the tag covers restore inputs, never a <c>.cs</c> file) or the
    /// project's own assemblies too (<c>/opt/flytesharp/app/</c>; any code edit moves the tag).</param>
    public Image WithDotnetProject(string csprojPath, DotnetInstallMode installMode = DotnetInstallMode.DependenciesOnly)
    {
        ArgumentNullException.ThrowIfNull(csprojPath);
        if (!Enum.IsDefined(installMode))
        {
            throw new FlyteSharpException($"'{installMode}' is not a DotnetInstallMode", fix: "use DotnetInstallMode.DependenciesOnly or DotnetInstallMode.InstallProject");
        }

        if (DefinitionsOnly)
        {
            // Inside the .NET worker: the project's files are on the driver's machine, and the image is already built.
            return this;
        }

        var full = Path.GetFullPath(csprojPath);
        if (Directory.Exists(full) || !full.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase))
        {
            throw new FlyteSharpException($"'{csprojPath}' is not a .csproj file", full, fix: "pass the path of the project file, e.g. SourceLocation.Combine(\"../Tasks/Tasks.csproj\")");
        }

        if (_layers.OfType<DotnetProjectLayer>().Any())
        {
            throw new FlyteSharpException("the image already has a .NET project", full,
                fix: "use one WithDotnetProject per image: point it at the project that references the others (its ProjectReferences come along)");
        }

        var graph = DotnetProjectGraph.Load(full);
        DotnetProjectLayer.RuntimeVersionOf(graph.Root);
        var project = new DotnetProjectLayer(full, installMode, graph.Root.TargetFramework);
        return Append(project).Append(new DotnetAssembliesLayer(project));
    }

    /// <summary>Installs Debian packages with apt.</summary>
    /// <param name="packages">Package names, optionally <c>name=version</c>.</param>
    public Image WithAptPackages(params string[] packages)
    {
        RequireSome(packages, nameof(WithAptPackages));
        foreach (var p in packages)
        {
            if (!AptName().IsMatch(p))
            {
                throw new FlyteSharpException($"'{p}' is not a Debian package name", fix: "use names such as \"git\" or \"libpq-dev=15.*\"");
            }
        }

        return Append(new AptPackagesLayer([.. packages]));
    }

    /// <summary>Installs Python packages into the venv with <c>uv pip install</c>.</summary>
    /// <param name="packages">Requirement specifiers, e.g. <c>"pandas>=2"</c>.</param>
    public Image WithPipPackages(params string[] packages) => WithPipPackages(packages, null);

    /// <summary>Installs Python packages into the venv with <c>uv pip install</c>, from a given index.</summary>
    /// <param name="packages">Requirement specifiers.</param>
    /// <param name="indexUrl">The package index, if not PyPI.</param>
    /// <param name="extraIndexUrls">Additional indexes.</param>
    /// <param name="prerelease">Allow pre-release versions.</param>
    public Image WithPipPackages(IReadOnlyList<string> packages, string? indexUrl, IReadOnlyList<string>? extraIndexUrls = null, bool prerelease = false)
    {
        RequireSome(packages, nameof(WithPipPackages));
        foreach (var p in packages)
        {
            if (string.IsNullOrWhiteSpace(p) || p.Contains('\n'))
            {
                throw new FlyteSharpException($"'{p}' is not a requirement specifier", fix: "use e.g. \"pandas>=2\"");
            }
        }

        return Append(new PipPackagesLayer([.. packages], indexUrl, extraIndexUrls ?? [], prerelease));
    }

    /// <summary>Installs a requirements file into the venv; its bytes are part of the tag.</summary>
    /// <param name="file">Path of <c>requirements.txt</c>.</param>
    public Image WithRequirements(string file) => DefinitionsOnly ? this : Append(new RequirementsLayer(ExistingFile(file, "requirements file", nameof(WithRequirements))));

    /// <summary>Runs shell commands, one <c>RUN</c> each.</summary>
    /// <param name="commands">Commands for <c>/bin/sh -c</c>.</param>
    public Image WithCommands(params string[] commands)
    {
        RequireSome(commands, nameof(WithCommands));
        if (commands.Any(string.IsNullOrWhiteSpace))
        {
            throw new FlyteSharpException("WithCommands got an empty command", fix: "remove the empty string");
        }

        return Append(new CommandsLayer([.. commands]));
    }

    /// <summary>Sets environment variables.</summary>
    /// <param name="variables">Names (letters, digits, underscore) and values.</param>
    public Image WithEnvVars(IReadOnlyDictionary<string, string> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        if (variables.Count == 0)
        {
            throw new FlyteSharpException("WithEnvVars got no variables", fix: "pass at least one name/value pair");
        }

        foreach (var (name, value) in variables)
        {
            if (!EnvName().IsMatch(name))
            {
                throw new FlyteSharpException($"'{name}' is not a valid environment variable name", fix: "use letters, digits and _, not starting with a digit");
            }

            if (value is null || value.Contains('\n'))
            {
                throw new FlyteSharpException($"environment variable '{name}' has a null or multi-line value", fix: "use a single-line value");
            }
        }

        return Append(new EnvVarsLayer(variables.OrderBy(v => v.Key, StringComparer.Ordinal).ToList()));
    }

    /// <summary>Sets the working directory.</summary>
    /// <param name="path">An absolute POSIX path, e.g. <c>/app</c>.</param>
    public Image WithWorkdir(string path)
    {
        if (string.IsNullOrEmpty(path) || !path.StartsWith('/') || path.Contains('\n'))
        {
            throw new FlyteSharpException($"workdir '{path}' is not an absolute POSIX path", fix: "use e.g. \"/app\"");
        }

        ImageBuildPlan.CheckLiteralPath(path, "workdir");
        return Append(new WorkdirLayer(path));
    }

    /// <summary>
    /// Copies a local folder into the image; its files are part of the tag (editing them rebuilds the image).
    /// Meant for libraries outside the code bundle's root (seed Pattern B), not for your task code.
    /// </summary>
    /// <param name="src">The folder.</param>
    /// <param name="dst">Where its contents land; default <c>./{folder name}</c> under the working directory.</param>
    public Image WithSourceFolder(string src, string? dst = null)
    {
        if (DefinitionsOnly)
        {
            return this;
        }

        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(src));
        if (!Directory.Exists(full))
        {
            throw new FlyteSharpException(File.Exists(full) ? "source folder is a file" : "source folder does not exist", full,
                fix: File.Exists(full) ? "use WithSourceFile for a single file" : "check the path (use SourceLocation.Combine to resolve it against your source file)");
        }

        CheckInsideProject(full);
        return Append(new SourceFolderLayer(full, CheckDestination(dst)));
    }

    /// <summary>Copies one local file into the image; its bytes are part of the tag.</summary>
    /// <param name="src">The file.</param>
    /// <param name="dst">Its path in the image; default <c>./{file name}</c> under the working directory.</param>
    public Image WithSourceFile(string src, string? dst = null)
    {
        if (DefinitionsOnly)
        {
            return this;
        }

        var full = ExistingFile(src, "source file", nameof(WithSourceFile));
        CheckInsideProject(full);
        return Append(new SourceFileLayer(full, CheckDestination(dst)));
    }

    /// <summary>Adds <c>.dockerignore</c> rules (Docker's semantics) that filter every folder this image copies.</summary>
    /// <param name="path">Path of the ignore file.</param>
    public Image WithDockerignore(string path)
    {
        if (DefinitionsOnly)
        {
            return this;
        }

        var layer = new DockerignoreLayer(ExistingFile(path, ".dockerignore file", nameof(WithDockerignore)));
        layer.Rules(); // invalid patterns fail now
        return Append(layer);
    }

    /// <summary>
    /// The code bundle: a no-op in fast deploy (the code travels per run), a <c>COPY</c> of the bundle's files in a
    /// full build (<see cref="CopyStyle.None"/>). One image definition for development and production.
    /// </summary>
    /// <param name="dst">Where the code lands in a full build; default the working directory.</param>
    public Image WithCodeBundle(string dst = ".")
    {
        if (_layers.OfType<CodeBundleLayer>().Any())
        {
            throw new FlyteSharpException("the image already has WithCodeBundle()", fix: "call WithCodeBundle() once, as the last layer");
        }

        return Append(new CodeBundleLayer(CheckDestination(dst) ?? "."));
    }

    /// <summary>Resolves the image: tag, URI, Dockerfile and build context (file digests come from a per-process cache).</summary>
    /// <param name="options">Configuration, copy style and root_dir.</param>
    public ResolvedImage Resolve(ImageResolveOptions options) => Resolve(options, FileDigestCache.Shared);

    internal ResolvedImage Resolve(ImageResolveOptions options, FileDigestCache cache)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = options.Config;
        var registry = Registry ?? config.Registry;
        var name = Name ?? config.ImageName;
        if (!OciReference.IsValidRegistry(registry))
        {
            throw new FlyteSharpException($"registry '{registry}' is not a valid OCI registry reference", Registry is null ? config.SourceFile : null,
                fix: "use host[:port][/path], e.g. \"localhost:5000\" ([images] registry in flytesharp.toml or FLYTESHARP_REGISTRY)");
        }

        if (!OciReference.IsValidRepository(name))
        {
            throw new FlyteSharpException($"image name '{name}' is not a valid OCI repository name", Name is null ? config.SourceFile : null,
                fix: "use lower-case letters, digits and . _ - separated by / ([images] name in flytesharp.toml or FLYTESHARP_IMAGE_NAME)");
        }

        foreach (var (what, reference) in new[] { ("uv_image", config.UvImage), ("python_base", config.PythonBaseImage.Replace("{python}", "3.12", StringComparison.Ordinal)),
            ("dotnet_base", DotnetBaseImageLayer.BaseUri(config.DotnetBaseImage, "10.0")) })
        {
            if (!OciReference.IsValidImage(reference))
            {
                throw new FlyteSharpException($"[images] {what} '{reference}' is not a valid image reference", config.SourceFile, fix: "use e.g. \"registry:5000/team/image:tag\"");
            }
        }

        var ignore = _layers.OfType<DockerignoreLayer>().Aggregate(DockerIgnore.Empty, (acc, l) => acc.Then(l.Rules()));
        using var plan = new ImageBuildPlan(options, cache, ignore);
        for (var i = 0; i < _layers.Length; i++)
        {
            plan.LayerIndex = i;
            _layers[i].Apply(plan);
        }

        var (host, prefix) = OciReference.SplitRegistry(registry);
        return new ResolvedImage(plan.Hash.Finish(), host, prefix.Length == 0 ? name : prefix + "/" + name, plan.Dockerfile, () => plan.Context,
            options.CopyStyle, plan.Workdir, plan.PythonExecutable, plan.CodeDirectory, [.. plan.Instructions]);
    }

    /// <summary>
    /// The image made of the first <paramref name="count"/> layers (same registry and name), with every
    /// <c>WithDockerignore</c> of the rest: those rules filter the folders of all layers, so the lower layers must see them.
    /// </summary>
    internal Image Take(int count) =>
        new([.. _layers[..count], .. _layers[count..].OfType<DockerignoreLayer>()], Registry, Name);

    /// <inheritdoc/>
    public override string ToString() => $"Image({string.Join(" + ", _layers.Select(l => l.GetType().Name.Replace("Layer", "", StringComparison.Ordinal)))})";

    private Image Append(ImageLayer layer) => new([.. _layers, layer], Registry, Name);

    private static void RequireSome<T>(IReadOnlyCollection<T> items, string method)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            throw new FlyteSharpException($"{method} got nothing to add", fix: "pass at least one item");
        }
    }

    private static string ExistingFile(string path, string what, string method)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FlyteSharpException($"{what} not found", full, fix: $"check the path given to {method}");
        }

        return full;
    }

    private static string? CheckDestination(string? dst)
    {
        if (dst is null)
        {
            return null;
        }

        if (dst.Length == 0 || dst.Contains('\n') || dst.Contains('\\') || (!dst.StartsWith('/') && dst.Split('/').Contains("..")))
        {
            throw new FlyteSharpException($"image destination '{dst}' is not a POSIX path inside the image", fix: "use an absolute path such as \"/root/my_lib\", or a relative path without '..'");
        }

        ImageBuildPlan.CheckLiteralPath(dst, "image destination");
        return dst;
    }

    // A folder outside the repository that holds the image's uv project would make the image depend on files that
    // are not under version control with the project; without a repository, the project folder (the uv project with
    // its workspace members and path dependencies) is the boundary. Both sides are compared after resolving every
    // symlink, so a link inside the project that leads elsewhere (say, to a home directory) is outside too.
    private void CheckInsideProject(string path)
    {
        var project = _layers.OfType<UvProjectLayer>().LastOrDefault();
        if (project is null)
        {
            return;
        }

        var real = RealPathOf(path);
        var repository = FindRepositoryRoot(RealPathOf(project.Project.Directory));
        var boundary = repository ?? RealPathOf(project.ProjectFolder());
        if (Files.FileWalker.IsUnder(real, boundary))
        {
            return;
        }

        var through = real == path ? "" : $" (through a symlink it resolves to '{real}')";
        throw repository is not null
            ? new FlyteSharpException($"source '{path}'{through} lies outside the project's repository ({repository})", path,
                fix: "move the folder into the repository, or publish it as a package and depend on it in pyproject.toml")
            : new FlyteSharpException($"source '{path}'{through} lies outside the project folder ({boundary}; the project is in no git repository)", path,
                fix: "move the folder into the project folder, declare it as a path dependency in pyproject.toml, or put the project and the folder in one git repository");
    }

    private static string RealPathOf(string path)
    {
        try
        {
            return Files.FileWalker.RealPath(path);
        }
        catch (IOException ex)
        {
            throw new FlyteSharpException($"cannot resolve symlinks: {ex.Message}", path, fix: "fix or remove the symlink loop");
        }
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    [GeneratedRegex(@"^[0-9]{1,2}\.[0-9]{1,2}$")]
    private static partial Regex DotnetVersionPattern();

    [GeneratedRegex(@"^3\.[0-9]{1,2}(\.[0-9]{1,2})?$")]
    private static partial Regex PythonVersionPattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9+.\-]*(:[a-z0-9]+)?(=[A-Za-z0-9.+~:*\-]+)?$")]
    private static partial Regex AptName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();
}
