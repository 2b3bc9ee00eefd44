using System.Text.Json;
using FlyteSharp.Projects.Dotnet;

namespace FlyteSharp.Images;

/// <summary>
/// A C# project's NuGet dependencies in the image: the .NET side of the two-layer model (its own assemblies, when the
/// image holds them, are the <see cref="DotnetAssembliesLayer"/> above it). The tag covers what restore reads (see <see cref="DotnetInstallMode"/>);
/// the files come from a <c>dotnet publish</c> on the host when the build context is written, so the image build needs
/// neither the SDK nor the network. The layer holds the runtime assets of the publish's NuGet packages (its deps.json
/// <c>package</c> libraries) in <c>/opt/flytesharp/packages/</c> with a <c>flytesharp-packages.json</c> manifest, never
/// FlyteSharp or the packages it depends on (the .NET worker brings those). Before copying, the build checks that the
/// base image has the .NET runtime the project targets.
/// </summary>
public sealed record DotnetProjectLayer : ImageLayer
{
    // The publish's own manifests, beside the user's assemblies in the image.
    private static readonly string[] PublishManifests = [".deps.json", ".runtimeconfig.json"];

    internal DotnetProjectLayer(string projectFile, DotnetInstallMode installMode, string targetFramework)
    {
        ProjectFile = projectFile;
        InstallMode = installMode;
        TargetFramework = targetFramework;
    }

    /// <summary>Full path of the project file.</summary>
    public string ProjectFile { get; }

    /// <summary>Dependencies only (default) or the project's assemblies too.</summary>
    public DotnetInstallMode InstallMode { get; }

    /// <summary>The project's target framework when the image was defined, e.g. <c>net10.0</c>.</summary>
    public string TargetFramework { get; }

    /// <summary>The name of FlyteSharp's own library: it and its dependencies come with the worker, never with this layer.</summary>
    internal const string WorkerLibrary = "FlyteSharp";

    /// <summary>The shared framework every .NET app needs.</summary>
    private const string NetCoreApp = "Microsoft.NETCore.App";

    internal override void Apply(ImageBuildPlan plan)
    {
        // Read afresh: a reference or framework may have changed since the image was defined, and the tag must see it.
        var graph = DotnetProjectGraph.Load(ProjectFile);
        var project = graph.Root;
        var runtime = RuntimeVersionOf(project);

        // Only what restore reads: the project's own assemblies, when the image holds them, are the next layer
        // (DotnetAssembliesLayer), so a .cs edit leaves this layer and everything below it as it was.
        var files = Files(plan, graph, withSources: false, out var rel);
        // Shared frameworks flow to the root through project references (an ASP.NET library makes the app need ASP.NET).
        var frameworks = graph.Projects.SelectMany(p => p.FrameworkReferences)
            .Where(f => !f.Equals(NetCoreApp, StringComparison.OrdinalIgnoreCase))
            .DistinctBy(f => f.ToLowerInvariant()).OrderBy(f => f.ToLowerInvariant(), StringComparer.Ordinal).ToList();

        plan.Hash.Begin("dotnet-project");
        plan.Hash.Field("install-mode", nameof(DotnetInstallMode.DependenciesOnly));
        plan.Hash.Field("project", rel(project.File));
        plan.Hash.Field("target-framework", project.TargetFramework);
        plan.Hash.Field("framework-references", [.. frameworks.Select(f => f.ToLowerInvariant())]);
        plan.Hash.Field("locked", project.LockFile is null ? "no" : "yes");

        // How the files are made is part of their identity: a change in the publish must not reuse an image made the old way.
        plan.Hash.Field("publish", DotnetPublisher.Arguments(graph, "{output}", "{artifacts}").Skip(2).ToList());
        plan.Hash.Field("worker-library", WorkerLibrary);
        plan.Hash.Files("files", files, plan.Cache);
        plan.Hash.End();

        var layerDir = plan.LayerDirectory("dotnet");
        plan.AddGenerated(layerDir, WritePackagesAsync);
        var what = plan.Options.CopyStyle != CopyStyle.None && InstallMode == DotnetInstallMode.DependenciesOnly
            ? "dependencies only: its NuGet packages' runtime assets, published on the host; the project's own assemblies travel in the code bundle"
            : $"install project: its NuGet packages' runtime assets, published on the host; its assemblies go to {DotnetImageLayout.App} in the next layer, so a code edit changes only that one";
        plan.Line($"# .NET project '{Printable(project.Name)}' ({Printable(project.TargetFramework)}; {what})");
        foreach (var framework in frameworks.Prepend(NetCoreApp))
        {
            plan.Line(RuntimeCheck(project, framework, runtime));
        }

        plan.Line($"COPY {layerDir}/packages/ {DotnetImageLayout.Packages}/");
    }

    /// <summary>
    /// The files of the project's own layer: its restore inputs and (<paramref name="withSources"/>) every file of its
    /// projects, relative to their common folder, sorted; <paramref name="rel"/> makes a path relative to that folder.
    /// </summary>
    internal static List<SelectedFile> Files(ImageBuildPlan plan, DotnetProjectGraph graph, bool withSources, out Func<string, string> rel)
    {
        IEnumerable<SelectedFile> files = graph.RestoreInputs.Select(input => new SelectedFile("", input, FileSelector.IsExecutable(input)));
        if (withSources)
        {
            files = files.Concat(graph.Projects.Where(p => !IsWorkerProject(p)).SelectMany(own => FileSelector.Select(own.Directory, plan.Ignore)));
        }

        return RelativeFiles(files, out rel);
    }

    private static List<SelectedFile> RelativeFiles(IEnumerable<SelectedFile> selected, out Func<string, string> rel)
    {
        var paths = new Dictionary<string, SelectedFile>(StringComparer.Ordinal);
        foreach (var f in selected)
        {
            paths.TryAdd(f.FullPath, f);
        }

        var common = CommonAncestor([.. paths.Keys.Select(p => Path.GetDirectoryName(p)!)]);
        rel = full => Path.GetRelativePath(common, full).Replace('\\', '/');
        var relative = rel;
        return [.. paths.Values.Select(f => f with { RelativePath = relative(f.FullPath) }).OrderBy(f => f.RelativePath, StringComparer.Ordinal)];
    }

    /// <summary>The .NET version a project needs, or an error for a framework no Linux runtime image runs (netstandard, net48, net10.0-windows).</summary>
    internal static string RuntimeVersionOf(DotnetProject project)
    {
        if (project.RuntimeVersion is not { } version)
        {
            throw new FlyteSharpException(
                $"project '{project.Name}' targets {project.TargetFramework}, which does not run on a .NET runtime image by itself",
                project.File, null, "point WithDotnetProject at a project targeting net8.0 or later (e.g. net10.0) that references this one");
        }

        if (project.TargetFramework.Contains('-', StringComparison.Ordinal))
        {
            throw new FlyteSharpException(
                $"project '{project.Name}' targets {project.TargetFramework}, a platform-specific framework; task images run Linux",
                project.File, null, $"target plain net{version} in the project the image runs (keep platform-specific code in projects it does not reference)");
        }

        return version;
    }

    /// <summary>Text from a project file made safe for a Dockerfile comment or a double-quoted shell word (no newline, quote, $ or backtick).</summary>
    internal static string Printable(string text) => new([.. text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+' or ' ' ? c : '?')]);

    private static bool IsWorkerProject(DotnetProject project) => project.AssemblyName.Equals(WorkerLibrary, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A RUN that fails the build with a clear message when the base image lacks the shared framework the project needs
    /// (same major version: .NET does not roll an app forward across majors by default).
    /// </summary>
    private static string RuntimeCheck(DotnetProject project, string framework, string version)
    {
        var major = version.Split('.')[0];
        (framework, major) = (Printable(framework), Printable(major));
        var message = $"error: project '{Printable(project.Name)}' targets {Printable(project.TargetFramework)} and needs {framework} {major}.x, but the base image has: ${{have:-no .NET runtime (dotnet is not on PATH)}}. " +
            $"fix: set [images] dotnet_base in flytesharp.toml (or FLYTESHARP_DOTNET_BASE_IMAGE) to a .NET {version} image, or use Image.FromDotnetBase(\\\"{version}\\\")";
        return $"RUN have=\"$(dotnet --list-runtimes 2>/dev/null | cut -d ' ' -f 1,2 | tr '\\n' ' ')\"; \\\n" +
            $"    case \" $have\" in *\" {framework} {major}.\"*) ;; *) echo \"{message}\" >&2; exit 1 ;; esac";
    }

    /// <summary>Publishes the project on the host and copies its NuGet packages' runtime assets (and their manifest) into <c>packages/</c>.</summary>
    private Task WritePackagesAsync(string directory, CancellationToken cancellationToken) =>
        PublishAsync((graph, publish, worker) =>
        {
            var packages = publish.Deps.Libraries.Where(l => l.Type == "package" && !worker.Contains(l.Name)).ToList();
            var packageDir = Path.Combine(directory, "packages");
            Directory.CreateDirectory(packageDir);
            foreach (var package in packages)
            {
                foreach (var file in package.Files)
                {
                    Copy(publish.Directory, file, packageDir, graph.Root.File);
                }
            }

            return File.WriteAllBytesAsync(Path.Combine(packageDir, DotnetImageLayout.PackagesManifest), Manifest(packages), cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Publishes the project on the host and copies into <paramref name="directory"/> the layout of the .NET code bundle:
    /// the user's projects' assemblies (+ .pdb), locally referenced .dlls, and the root's deps.json and runtimeconfig.json.
    /// </summary>
    internal Task WriteAssembliesAsync(string directory, CancellationToken cancellationToken) =>
        PublishAsync((graph, publish, worker) =>
        {
            Directory.CreateDirectory(directory);
            foreach (var own in publish.Deps.Libraries.Where(l => l.Type is "project" or "reference" && !worker.Contains(l.Name)))
            {
                foreach (var file in own.Files)
                {
                    Copy(publish.Directory, file, directory, graph.Root.File);
                    var pdb = Path.ChangeExtension(file, ".pdb");
                    if (file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && File.Exists(Path.Combine(publish.Directory, pdb)))
                    {
                        Copy(publish.Directory, pdb, directory, graph.Root.File);
                    }
                }
            }

            foreach (var file in PublishManifests.Select(e => graph.Root.AssemblyName + e))
            {
                if (File.Exists(Path.Combine(publish.Directory, file)))
                {
                    Copy(publish.Directory, file, directory, graph.Root.File);
                }
            }

            return Task.CompletedTask;
        }, cancellationToken);

    /// <summary>Runs <c>dotnet publish</c> into a scratch folder, hands its output to <paramref name="use"/>, then deletes the folder.</summary>
    private async Task PublishAsync(Func<DotnetProjectGraph, DotnetPublishOutput, IReadOnlySet<string>, Task> use, CancellationToken cancellationToken)
    {
        var scratch = Directory.CreateTempSubdirectory("flytesharp-dotnet-publish-").FullName;
        try
        {
            var graph = DotnetProjectGraph.Load(ProjectFile);
            var publish = await DotnetPublisher.PublishAsync(graph, scratch, cancellationToken).ConfigureAwait(false);
            await use(graph, publish, publish.Deps.ClosureOf(WorkerLibrary)).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
                // A leftover scratch folder in the temp directory is harmless.
            }
        }
    }

    private static void Copy(string from, string relative, string to, string projectFile)
    {
        var source = Path.Combine(from, relative.Replace('/', Path.DirectorySeparatorChar));
        if (!File.Exists(source))
        {
            throw new FlyteSharpException($"the publish's deps.json lists '{relative}', but the publish folder has no such file", projectFile,
                fix: "check the project's publish settings (a custom publish target or CopyLocal setting may drop package files)");
        }

        var target = Path.Combine(to, relative.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(source, target, overwrite: false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
    }

    /// <summary>The dependency layer's manifest: <c>{"packages": [{"name", "version", "files"}]}</c>, sorted, for the worker's conflict errors.</summary>
    internal static byte[] Manifest(IEnumerable<DotnetLibrary> packages)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("packages");
            foreach (var package in packages.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("name", package.Name);
                writer.WriteString("version", package.Version);
                writer.WriteStartArray("files");
                foreach (var file in package.Files)
                {
                    writer.WriteStringValue(file);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static string CommonAncestor(IReadOnlyList<string> dirs)
    {
        var common = Path.GetFullPath(dirs[0]);
        foreach (var d in dirs.Skip(1).Select(Path.GetFullPath))
        {
            while (d != common && !d.StartsWith(Path.EndsInDirectorySeparator(common) ? common : common + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                common = Path.GetDirectoryName(common) ?? common;
            }
        }

        return common;
    }
}
