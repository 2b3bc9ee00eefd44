using System.Xml.Linq;

namespace FlyteSharp.Projects.Dotnet;

/// <summary>
/// A C# (or other MSBuild SDK) project as its restore sees it, read from the files without running MSBuild: the target
/// framework, package, project and framework references, the Directory.Build.props / Directory.Packages.props /
/// Directory.Build.targets it imports, and its packages.lock.json. See <see cref="MsBuildEvaluator"/> for how much of
/// MSBuild's evaluation this covers.
/// </summary>
internal sealed class DotnetProject
{
    private DotnetProject(string file)
    {
        File = file;
        Directory = Path.GetDirectoryName(file)!;
        Name = Path.GetFileNameWithoutExtension(file);
    }

    /// <summary>Full path of the project file.</summary>
    public string File { get; }

    /// <summary>The project's directory.</summary>
    public string Directory { get; }

    /// <summary>The project file's name without extension.</summary>
    public string Name { get; }

    /// <summary><c>AssemblyName</c>, by default the project's name.</summary>
    public string AssemblyName { get; private init; } = "";

    /// <summary>The one target framework, e.g. <c>net10.0</c>.</summary>
    public string TargetFramework { get; private init; } = "";

    /// <summary>The package references, in declaration order.</summary>
    public IReadOnlyList<DotnetPackageReference> PackageReferences { get; private init; } = [];

    /// <summary>Shared frameworks besides <c>Microsoft.NETCore.App</c>, e.g. <c>Microsoft.AspNetCore.App</c>.</summary>
    public IReadOnlyList<string> FrameworkReferences { get; private init; } = [];

    /// <summary>Project references: the full path of the referenced project, and the file and line that declare it.</summary>
    public IReadOnlyList<(string Path, string File, int Line)> ProjectReferences { get; private init; } = [];

    /// <summary>Every MSBuild file the evaluation read: the project file, Directory.*.props/.targets and what they import.</summary>
    public IReadOnlyList<string> MsBuildFiles { get; private init; } = [];

    /// <summary>The project's packages.lock.json, or null when it has none.</summary>
    public string? LockFile { get; private init; }

    /// <summary>True when <c>RestorePackagesWithLockFile</c> is set to true.</summary>
    public bool RestoresWithLockFile { get; private init; }

    /// <summary>The .NET major.minor the target framework needs (<c>net10.0</c> → <c>10.0</c>), or null for other frameworks.</summary>
    public string? RuntimeVersion =>
        TargetFramework.StartsWith("net", StringComparison.OrdinalIgnoreCase) && Version.TryParse(TargetFramework[3..].Split('-')[0], out var v) && v.Major >= 5
            ? $"{v.Major}.{v.Minor}"
            : null;

    /// <summary>Reads a project file and the Directory.* files MSBuild imports for it.</summary>
    /// <exception cref="FlyteSharpException">Missing file, malformed XML, no single target framework, or an import that cannot be followed.</exception>
    public static DotnetProject Load(string projectFile)
    {
        var file = Path.GetFullPath(projectFile);
        if (!System.IO.File.Exists(file))
        {
            throw new FlyteSharpException("project file not found", file, fix: "check the path given to WithDotnetProject (use SourceLocation.Combine to resolve it against your source file)");
        }

        var directory = Path.GetDirectoryName(file)!;
        var evaluation = new MsBuildEvaluator(file);
        if (Nearest(directory, "Directory.Build.props") is { } buildProps)
        {
            evaluation.Read(buildProps, "Directory.Build.props");
        }

        if (!evaluation.Value("ImportDirectoryPackagesProps").Equals("false", StringComparison.OrdinalIgnoreCase)
            && Nearest(directory, "Directory.Packages.props") is { } packagesProps)
        {
            evaluation.Read(packagesProps, "Directory.Packages.props");
        }

        evaluation.Read(file, "project file");
        if (Nearest(directory, "Directory.Build.targets") is { } buildTargets)
        {
            evaluation.Read(buildTargets, "Directory.Build.targets");
        }

        var project = new DotnetProject(file)
        {
            AssemblyName = evaluation.Value("AssemblyName") is { Length: > 0 } assembly ? assembly : Path.GetFileNameWithoutExtension(file),
            TargetFramework = TargetFrameworkOf(evaluation, file),
            MsBuildFiles = evaluation.Files,
            RestoresWithLockFile = evaluation.Value("RestorePackagesWithLockFile").Equals("true", StringComparison.OrdinalIgnoreCase),
            LockFile = LockFileOf(evaluation, directory),
            PackageReferences = PackagesOf(evaluation),
            FrameworkReferences = [.. evaluation.Items.Where(i => i.Kind == "FrameworkReference").Select(i => i.Include).Distinct(StringComparer.OrdinalIgnoreCase)],
            ProjectReferences = [.. evaluation.Items.Where(i => i.Kind == "ProjectReference").Select(i => (ReferencePath(i, evaluation), i.File, MsBuildFile.LineOf(i.Element) ?? 0))],
        };
        return project;
    }

    /// <summary>The nearest file named <paramref name="name"/> in <paramref name="directory"/> or above it (MSBuild's own search), or null.</summary>
    internal static string? Nearest(string directory, string name)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, name);
            if (System.IO.File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string TargetFrameworkOf(MsBuildEvaluator evaluation, string file)
    {
        if (evaluation.Property("TargetFramework") is { Value.Length: > 0 } single)
        {
            if (single.Value.Contains("$(", StringComparison.Ordinal) || single.Value.Contains(';', StringComparison.Ordinal))
            {
                throw new FlyteSharpException($"TargetFramework '{single.Value}' cannot be evaluated to one framework without running MSBuild", single.File, single.Line,
                    "write the framework literally, e.g. <TargetFramework>net10.0</TargetFramework>, or define the property it uses in Directory.Build.props");
            }

            return single.Value;
        }

        if (evaluation.Property("TargetFrameworks") is { Value.Length: > 0 } multiple)
        {
            var frameworks = multiple.Value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (frameworks.Length == 1 && !frameworks[0].Contains("$(", StringComparison.Ordinal))
            {
                return frameworks[0];
            }

            throw new FlyteSharpException($"the project targets several frameworks ({multiple.Value}), so it is ambiguous which one the image runs",
                multiple.File, multiple.Line,
                $"give the project a single <TargetFramework> matching the image's .NET runtime (e.g. <TargetFramework>{frameworks.LastOrDefault(f => !f.Contains('$', StringComparison.Ordinal)) ?? "net10.0"}</TargetFramework>), or make a project for the image that references this one with one framework");
        }

        throw new FlyteSharpException("the project sets no TargetFramework", file, null, "add <TargetFramework>net10.0</TargetFramework> to a <PropertyGroup>");
    }

    private static string? LockFileOf(MsBuildEvaluator evaluation, string directory)
    {
        if (evaluation.Value("NuGetLockFilePath") is { Length: > 0 } custom)
        {
            var full = Path.GetFullPath(Path.Combine(directory, custom.Replace('\\', Path.DirectorySeparatorChar)));
            return System.IO.File.Exists(full) ? full : null;
        }

        // NuGet prefers packages.<project name>.lock.json when it exists (several projects in one folder).
        var named = Path.Combine(directory, $"packages.{evaluation.Value("MSBuildProjectName").Replace(' ', '_')}.lock.json");
        var plain = Path.Combine(directory, "packages.lock.json");
        return System.IO.File.Exists(named) ? named : System.IO.File.Exists(plain) ? plain : null;
    }

    private static List<DotnetPackageReference> PackagesOf(MsBuildEvaluator evaluation)
    {
        var central = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var version in evaluation.Items.Where(i => i.Kind == "PackageVersion"))
        {
            if (VersionOf(version.Element, "Version") is { } v)
            {
                central[version.Include] = v;
            }
        }

        var references = new Dictionary<string, DotnetPackageReference>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in evaluation.Items.Where(i => i.Kind == "PackageReference"))
        {
            var isUpdate = item.Element.Attribute("Include") is null;
            var version = VersionOf(item.Element, "VersionOverride") ?? VersionOf(item.Element, "Version");
            if (isUpdate)
            {
                if (references.TryGetValue(item.Include, out var existing) && version is not null)
                {
                    references[item.Include] = existing with { Version = version };
                }

                continue;
            }

            references[item.Include] = new DotnetPackageReference(item.Include, version ?? central.GetValueOrDefault(item.Include), item.File, MsBuildFile.LineOf(item.Element) ?? 0);
        }

        return [.. references.Values];
    }

    private static string? VersionOf(XElement item, string name) =>
        ((string?)item.Attribute(name) ?? item.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value)?.Trim() is { Length: > 0 } v ? v : null;

    private static string ReferencePath(MsBuildItem item, MsBuildEvaluator evaluation)
    {
        var path = item.Include.Replace('\\', Path.DirectorySeparatorChar);
        if (path.Contains("$(", StringComparison.Ordinal) || path.Contains('*', StringComparison.Ordinal))
        {
            throw new FlyteSharpException($"cannot evaluate the ProjectReference '{item.Include}' without running MSBuild", item.File, MsBuildFile.LineOf(item.Element),
                "reference the project by a relative path (e.g. ../Lib/Lib.csproj), or define the property it uses in Directory.Build.props");
        }

        // Item paths are relative to the project's folder, even when an imported .props declares them.
        return Path.GetFullPath(Path.Combine(evaluation.Value("MSBuildProjectDirectory"), path));
    }
}
