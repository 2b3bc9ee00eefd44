using System.Text.Json;

namespace FlyteSharp.Bundles;

/// <summary>
/// What a build output's <c>.deps.json</c> says: the target framework, and per library (<c>project</c> or
/// <c>package</c>) its name, version and the runtime and satellite-resource files it puts next to the entry assembly.
/// The driver reads it to pick the user's own files for the .NET bundle; the worker reads it to name the package
/// versions the bundle was built against.
/// </summary>
internal sealed class DotnetDepsFile
{
    private DotnetDepsFile(string path, string? targetFramework, IReadOnlyList<DotnetLibrary> libraries)
    {
        Path = path;
        TargetFramework = targetFramework;
        Libraries = libraries;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The runtime target, e.g. <c>.NETCoreApp,Version=v10.0</c>.</summary>
    public string? TargetFramework { get; }

    /// <summary>The framework's version (<c>10.0</c> for <c>.NETCoreApp,Version=v10.0</c>), or null when the file names none.</summary>
    public Version? FrameworkVersion =>
        TargetFramework is { } t && t.LastIndexOf("Version=v", StringComparison.Ordinal) is var at and >= 0 && Version.TryParse(t[(at + "Version=v".Length)..], out var v) ? v : null;

    /// <summary>Every library of the runtime target.</summary>
    public IReadOnlyList<DotnetLibrary> Libraries { get; }

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="FlyteSharpException">The file is missing or not a deps.json.</exception>
    public static DotnetDepsFile Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FlyteSharpException("the assembly has no .deps.json next to it", path,
                fix: "build the project with the .NET SDK (dotnet build writes it), and keep GenerateDependencyFile on");
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            var target = root.TryGetProperty("runtimeTarget", out var rt) && rt.TryGetProperty("name", out var n) ? n.GetString() : null;
            var kinds = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("libraries", out var libraries))
            {
                foreach (var library in libraries.EnumerateObject())
                {
                    kinds[library.Name] = library.Value.TryGetProperty("type", out var type) ? type.GetString() ?? "" : "";
                }
            }

            var result = new List<DotnetLibrary>();
            if (target is not null && root.TryGetProperty("targets", out var targets) && targets.TryGetProperty(target, out var entries))
            {
                foreach (var entry in entries.EnumerateObject())
                {
                    var slash = entry.Name.IndexOf('/');
                    var name = slash < 0 ? entry.Name : entry.Name[..slash];
                    var version = slash < 0 ? "" : entry.Name[(slash + 1)..];
                    result.Add(new DotnetLibrary(name, version, kinds.GetValueOrDefault(entry.Name, ""), Keys(entry.Value, "runtime"), Keys(entry.Value, "resources")));
                }
            }

            return new DotnetDepsFile(path, target, result);
        }
        catch (JsonException ex)
        {
            throw new FlyteSharpException($"not a valid .deps.json: {ex.Message}", path, fix: "rebuild the project", inner: ex);
        }
    }

    private static string[] Keys(JsonElement library, string property) =>
        library.TryGetProperty(property, out var files) && files.ValueKind == JsonValueKind.Object ? [.. files.EnumerateObject().Select(f => f.Name)] : [];
}
