using System.Text.Json;

namespace FlyteSharp.Projects.Dotnet;

/// <summary>
/// The libraries of a publish's <c>{assembly}.deps.json</c> for its runtime target, each with its runtime files where
/// <c>dotnet publish</c> puts them: runtime and native assets flat by file name, resources under their locale folder,
/// RID-specific assets at their <c>runtimes/&lt;rid&gt;/…</c> path.
/// </summary>
internal sealed class DepsJson
{
    private DepsJson(string file, IReadOnlyList<DotnetLibrary> libraries)
    {
        File = file;
        Libraries = libraries;
    }

    /// <summary>Full path of the deps.json file.</summary>
    public string File { get; }

    /// <summary>Every library of the runtime target, sorted by name.</summary>
    public IReadOnlyList<DotnetLibrary> Libraries { get; }

    /// <summary>Reads a deps.json file.</summary>
    /// <exception cref="FlyteSharpException">The file is missing or not a deps.json.</exception>
    public static DepsJson Load(string file)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(System.IO.File.ReadAllBytes(file));
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot read the publish's deps.json: {ex.Message}", file, fix: "check that `dotnet publish` of the project works and writes a deps.json (GenerateDependencyFile must not be false)");
        }

        using (document)
        {
            var root = document.RootElement;
            if (!root.TryGetProperty("runtimeTarget", out var runtimeTarget) || !runtimeTarget.TryGetProperty("name", out var targetName)
                || !root.TryGetProperty("targets", out var targets) || !targets.TryGetProperty(targetName.GetString()!, out var target)
                || !root.TryGetProperty("libraries", out var libraries))
            {
                throw new FlyteSharpException("the publish's deps.json has no runtime target, targets or libraries", file, fix: "check the project's publish output");
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
                void Add(string relative)
                {
                    if (relative.StartsWith('/') || relative.Split('/').Contains("..") || relative.Contains('\\', StringComparison.Ordinal))
                    {
                        throw new FlyteSharpException($"deps.json names a file outside the publish folder: '{relative}'", file, fix: "check the project's publish output");
                    }

                    files.Add(relative);
                }

                foreach (var asset in Assets(entry.Value, "runtime").Concat(Assets(entry.Value, "native")))
                {
                    Add(Path.GetFileName(asset.Name));
                }

                foreach (var asset in Assets(entry.Value, "resources"))
                {
                    var locale = asset.Value.TryGetProperty("locale", out var l) ? l.GetString() : null;
                    Add(string.IsNullOrEmpty(locale) ? Path.GetFileName(asset.Name) : locale + "/" + Path.GetFileName(asset.Name));
                }

                foreach (var asset in Assets(entry.Value, "runtimeTargets"))
                {
                    Add(asset.Name);
                }

                var dependencies = entry.Value.TryGetProperty("dependencies", out var deps) ? deps.EnumerateObject().Select(d => d.Name).ToList() : [];
                result.Add(new DotnetLibrary(entry.Name[..slash], entry.Name[(slash + 1)..],
                    library.TryGetProperty("type", out var type) ? type.GetString() ?? "" : "", dependencies, [.. files]));
            }

            return new DepsJson(file, [.. result.OrderBy(l => l.Name, StringComparer.OrdinalIgnoreCase)]);
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
