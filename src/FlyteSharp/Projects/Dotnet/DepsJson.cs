using System.Text.Json;

namespace FlyteSharp.Projects.Dotnet;

/// <summary>
/// The libraries of a build or publish output's <c>{assembly}.deps.json</c> for its runtime target, each with its runtime
/// files where the SDK puts them: runtime and native assets flat by file name, resources under their locale folder,
/// RID-specific assets at their <c>runtimes/&lt;rid&gt;/…</c> path. The image's dependency layer, the .NET code bundle and
/// the worker's version checks all read it here.
/// </summary>
internal sealed class DepsJson
{
    private DepsJson(string file, string targetFramework, IReadOnlyList<DotnetLibrary> libraries)
    {
        File = file;
        TargetFramework = targetFramework;
        Libraries = libraries;
    }

    /// <summary>Full path of the deps.json file.</summary>
    public string File { get; }

    /// <summary>The runtime target, e.g. <c>.NETCoreApp,Version=v10.0</c>.</summary>
    public string TargetFramework { get; }

    /// <summary>The framework's version (<c>10.0</c> for <c>.NETCoreApp,Version=v10.0</c>), or null when the target names none.</summary>
    public Version? FrameworkVersion =>
        TargetFramework.LastIndexOf("Version=v", StringComparison.Ordinal) is var at and >= 0 && Version.TryParse(TargetFramework[(at + "Version=v".Length)..], out var v) ? v : null;

    /// <summary>Every library of the runtime target, sorted by name.</summary>
    public IReadOnlyList<DotnetLibrary> Libraries { get; }

    /// <summary>Reads a deps.json file.</summary>
    /// <exception cref="FlyteSharpException">The file is missing or not a deps.json.</exception>
    public static DepsJson Load(string file)
    {
        if (!System.IO.File.Exists(file))
        {
            throw new FlyteSharpException("the assembly has no .deps.json next to it", file,
                fix: "build the project with the .NET SDK (dotnet build and dotnet publish write it), and keep GenerateDependencyFile on");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(System.IO.File.ReadAllBytes(file));
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot read the deps.json: {ex.Message}", file, fix: "rebuild the project (GenerateDependencyFile must not be false)");
        }

        using (document)
        {
            var root = document.RootElement;
            if (!root.TryGetProperty("runtimeTarget", out var runtimeTarget) || !runtimeTarget.TryGetProperty("name", out var targetName)
                || !root.TryGetProperty("targets", out var targets) || !targets.TryGetProperty(targetName.GetString()!, out var target)
                || !root.TryGetProperty("libraries", out var libraries))
            {
                throw new FlyteSharpException("the deps.json has no runtime target, targets or libraries", file, fix: "rebuild the project");
            }

            var result = new List<DotnetLibrary>();
            foreach (var entry in target.EnumerateObject())
            {
                var slash = entry.Name.IndexOf('/', StringComparison.Ordinal);
                if (slash <= 0 || !libraries.TryGetProperty(entry.Name, out var library))
                {
                    continue;
                }

                var files = new SortedSet<string>(StringComparer.Ordinal);
                void Add(string listed, string relative)
                {
                    // Checked as listed, before flattening: a hostile '../../x' names a file outside, whatever it flattens to.
                    foreach (var path in (string[])[listed, relative])
                    {
                        if (path.Length == 0 || path.StartsWith('/') || path.Split('/').Contains("..") || path.Contains('\\', StringComparison.Ordinal))
                        {
                            throw new FlyteSharpException($"deps.json lists '{listed}', which is not a path inside the build output", file, fix: "rebuild the project");
                        }
                    }

                    files.Add(relative);
                }

                foreach (var asset in Assets(entry.Value, "runtime").Concat(Assets(entry.Value, "native")))
                {
                    Add(asset.Name, Path.GetFileName(asset.Name));
                }

                foreach (var asset in Assets(entry.Value, "resources"))
                {
                    var locale = asset.Value.TryGetProperty("locale", out var l) ? l.GetString() : null;
                    Add(asset.Name, string.IsNullOrEmpty(locale) ? Path.GetFileName(asset.Name) : locale + "/" + Path.GetFileName(asset.Name));
                }

                foreach (var asset in Assets(entry.Value, "runtimeTargets"))
                {
                    Add(asset.Name, asset.Name);
                }

                var dependencies = entry.Value.TryGetProperty("dependencies", out var deps) ? deps.EnumerateObject().Select(d => d.Name).ToList() : [];
                result.Add(new DotnetLibrary(entry.Name[..slash], entry.Name[(slash + 1)..],
                    library.TryGetProperty("type", out var type) ? type.GetString() ?? "" : "", dependencies, [.. files]));
            }

            return new DepsJson(file, targetName.GetString()!, [.. result.OrderBy(l => l.Name, StringComparer.OrdinalIgnoreCase)]);
        }
    }

    /// <summary>The named library and every library it depends on, directly or not (names, case-insensitive); empty when it is absent.</summary>
    public IReadOnlySet<string> ClosureOf(string name)
    {
        var byName = Libraries.ToDictionary(l => l.Name, StringComparer.OrdinalIgnoreCase);
        var closure = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>([name]);
        while (pending.TryPop(out var next))
        {
            if (byName.TryGetValue(next, out var library) && closure.Add(library.Name))
            {
                foreach (var dependency in library.Dependencies)
                {
                    pending.Push(dependency);
                }
            }
        }

        return closure;
    }

    private static JsonProperty[] Assets(JsonElement library, string kind) =>
        library.TryGetProperty(kind, out var assets) && assets.ValueKind == JsonValueKind.Object ? [.. assets.EnumerateObject()] : [];
}
