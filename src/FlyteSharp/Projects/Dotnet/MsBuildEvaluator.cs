using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace FlyteSharp.Projects.Dotnet;

/// <summary>An item a restore reads: <c>PackageReference</c>, <c>PackageVersion</c>, <c>ProjectReference</c> or <c>FrameworkReference</c>.</summary>
internal sealed record MsBuildItem(string Kind, string Include, XElement Element, string File);

/// <summary>Where a property got its value.</summary>
internal sealed record MsBuildPropertySource(string Value, string File, int? Line);

/// <summary>
/// The small part of MSBuild evaluation a restore's inputs depend on: properties (<c>$(Name)</c> and the
/// <c>GetPathOfFileAbove</c>/<c>GetDirectoryNameOfFileAbove</c> functions that Directory.Build.props chains use, and
/// <c>GetFullPath</c>/<c>NormalizePath</c> of a path),
/// <c>Import</c> elements with a path that can be evaluated, and the restore items. Conditions are not evaluated
/// except the common <c>'$(X)' == ''</c> default guard, so the model reads a superset of what MSBuild reads; SDK
/// imports (<c>Sdk="…"</c>) are not followed (the SDK is pinned by global.json, which is a restore input).
/// </summary>
internal sealed partial class MsBuildEvaluator
{
    private readonly Dictionary<string, MsBuildPropertySource> _properties = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _files = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly List<MsBuildItem> _items = [];

    public MsBuildEvaluator(string projectFile)
    {
        var directory = Path.GetDirectoryName(projectFile)!;
        Set("MSBuildProjectDirectory", directory);
        Set("MSBuildProjectFullPath", projectFile);
        Set("MSBuildProjectFile", Path.GetFileName(projectFile));
        Set("MSBuildProjectName", Path.GetFileNameWithoutExtension(projectFile));
        Set("MSBuildProjectExtension", Path.GetExtension(projectFile));
    }

    /// <summary>Every MSBuild file read, in the order it was read.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>The restore items, in evaluation order.</summary>
    public IReadOnlyList<MsBuildItem> Items => _items;

    /// <summary>A property's value and where it was set, or null when no file read sets it.</summary>
    public MsBuildPropertySource? Property(string name) =>
        _properties.TryGetValue(name, out var source) && source.File.Length > 0 ? source : null;

    /// <summary>A property's value, or "" when unset.</summary>
    public string Value(string name) => _properties.TryGetValue(name, out var source) ? source.Value : "";

    /// <summary>Reads <paramref name="file"/> (once) and the files it imports.</summary>
    public void Read(string file, string what)
    {
        var full = Path.GetFullPath(file);
        if (!_seen.Add(full))
        {
            return;
        }

        var msbuild = MsBuildFile.Load(full, what);
        _files.Add(full);
        Visit(msbuild.Root, msbuild);
    }

    /// <summary>Expands <c>$(Name)</c> and the path functions in <paramref name="value"/>, as seen from a file in <paramref name="thisFileDirectory"/> (with a trailing separator).</summary>
    public string Expand(string value, string thisFileDirectory)
    {
        if (!value.Contains('$', StringComparison.Ordinal))
        {
            return value;
        }

        string Simple(string v) => PropertyReference().Replace(v, m =>
            m.Groups[1].Value.Equals("MSBuildThisFileDirectory", StringComparison.OrdinalIgnoreCase) ? thisFileDirectory
            : _properties.TryGetValue(m.Groups[1].Value, out var p) ? p.Value
            : m.Value);

        var expanded = PathAbove().Replace(value, m =>
        {
            // GetPathOfFileAbove(file, startingDirectory) returns the file's path; GetDirectoryNameOfFileAbove(startingDirectory, file) its folder.
            var pathOfFile = m.Groups["fn"].Value.Equals("GetPathOfFileAbove", StringComparison.OrdinalIgnoreCase);
            var name = Simple(pathOfFile ? m.Groups["a"].Value : m.Groups["b"].Value);
            var start = pathOfFile ? (m.Groups["b"].Success ? Simple(m.Groups["b"].Value) : thisFileDirectory) : Simple(m.Groups["a"].Value);
            if (start.Contains("$(", StringComparison.Ordinal) || name.Contains("$(", StringComparison.Ordinal) || start.Length == 0)
            {
                return m.Value;
            }

            for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, name)))
                {
                    return pathOfFile ? Path.Combine(dir.FullName, name) : dir.FullName;
                }
            }

            return "";
        });
        // GetFullPath / NormalizePath of an argument that expands completely (FlyteSharp.Worker.targets names the worker's
        // project so); anything else is left as is and refused where a path is needed.
        expanded = FullPath().Replace(expanded, m => Simple(m.Groups["a"].Value) is var path && !path.Contains("$(", StringComparison.Ordinal) && path.Length > 0
            ? Path.GetFullPath(path.Replace('\\', Path.DirectorySeparatorChar))
            : m.Value);
        return Simple(expanded);
    }

    private void Set(string name, string value) => _properties[name] = new MsBuildPropertySource(value, "", null);

    private void Visit(XElement parent, MsBuildFile file)
    {
        foreach (var element in parent.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "PropertyGroup":
                    foreach (var property in element.Elements())
                    {
                        var name = property.Name.LocalName;
                        var condition = (string?)property.Attribute("Condition");
                        if (condition is not null && DefaultGuard().Match(condition) is { Success: true } guard
                            && guard.Groups[1].Value.Equals(name, StringComparison.OrdinalIgnoreCase) && Value(name).Length > 0)
                        {
                            continue;
                        }

                        _properties[name] = new MsBuildPropertySource(Expand(property.Value.Trim(), file.DirectoryWithSlash), file.Path, MsBuildFile.LineOf(property));
                    }

                    break;
                case "ItemGroup":
                    foreach (var item in element.Elements())
                    {
                        if (item.Name.LocalName is "PackageReference" or "PackageVersion" or "ProjectReference" or "FrameworkReference"
                            && ((string?)item.Attribute("Include") ?? (string?)item.Attribute("Update")) is { Length: > 0 } include)
                        {
                            _items.Add(new MsBuildItem(item.Name.LocalName, Expand(include.Trim(), file.DirectoryWithSlash), item, file.Path));
                        }
                    }

                    break;
                case "Import":
                    Import(element, file);
                    break;
                case "ImportGroup" or "Choose" or "When" or "Otherwise":
                    Visit(element, file);
                    break;
            }
        }
    }

    private void Import(XElement element, MsBuildFile file)
    {
        if (element.Attribute("Sdk") is not null || (string?)element.Attribute("Project") is not { Length: > 0 } project)
        {
            return;
        }

        var conditional = element.Attribute("Condition") is not null;
        var path = Expand(project.Trim(), file.DirectoryWithSlash);
        if (path.Length == 0)
        {
            return; // a GetPathOfFileAbove that found nothing: MSBuild imports nothing either (it is guarded by a condition in practice)
        }

        if (path.Contains("$(", StringComparison.Ordinal) || path.Contains('*', StringComparison.Ordinal))
        {
            if (conditional)
            {
                return;
            }

            throw new FlyteSharpException($"cannot evaluate the Import of '{project}' without running MSBuild, so the image tag could not cover it",
                file.Path, MsBuildFile.LineOf(element),
                "import a path relative to $(MSBuildThisFileDirectory), or set the property it uses in a Directory.Build.props above the project");
        }

        var full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(Path.GetDirectoryName(file.Path)!, path.Replace('\\', Path.DirectorySeparatorChar)));
        if (!File.Exists(full))
        {
            if (conditional)
            {
                return;
            }

            throw new FlyteSharpException($"imported file '{project}' not found (resolved to {full})", file.Path, MsBuildFile.LineOf(element),
                "fix the Import's Project path, or guard it with Condition=\"Exists('…')\"");
        }

        Read(full, "imported MSBuild file");
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_\-]*)\)")]
    private static partial Regex PropertyReference();

    [GeneratedRegex(@"\$\(\[MSBuild\]::(?<fn>GetPathOfFileAbove|GetDirectoryNameOfFileAbove)\(\s*'(?<a>[^']*)'\s*(?:,\s*'(?<b>[^']*)'\s*)?\)\)", RegexOptions.IgnoreCase)]
    private static partial Regex PathAbove();

    [GeneratedRegex(@"\$\(\[(?:System\.IO\.Path\]::GetFullPath|MSBuild\]::NormalizePath)\(\s*'(?<a>[^']*)'\s*\)\)", RegexOptions.IgnoreCase)]
    private static partial Regex FullPath();

    [GeneratedRegex(@"^\s*'\$\(([A-Za-z_][A-Za-z0-9_\-]*)\)'\s*==\s*''\s*$")]
    private static partial Regex DefaultGuard();
}
