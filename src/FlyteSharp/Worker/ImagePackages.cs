using System.Text.Json;
using FlyteSharp.Runner;

namespace FlyteSharp.Worker;

/// <summary>
/// The image's NuGet dependency layer as its manifest (<c>flytesharp-packages.json</c>) describes it: which package
/// version each file comes from, so a missing assembly or a version conflict can name both sides.
/// </summary>
internal sealed class ImagePackages
{
    private readonly Dictionary<string, (string Name, string Version)> _byFile = new(StringComparer.OrdinalIgnoreCase);

    private ImagePackages(string directory, IReadOnlyDictionary<string, string> versions)
    {
        Directory = directory;
        Versions = versions;
    }

    /// <summary>The layer's folder.</summary>
    public string Directory { get; }

    /// <summary>Package name → version, as the image has them (empty when the image has no dependency layer).</summary>
    public IReadOnlyDictionary<string, string> Versions { get; }

    /// <summary>True when the image has a dependency layer (its manifest exists).</summary>
    public bool Present { get; private init; }

    /// <summary>Reads the manifest in <paramref name="directory"/>; an image without one has no packages.</summary>
    /// <exception cref="FlyteSharpException">The manifest exists but is not valid.</exception>
    public static ImagePackages Load(string directory)
    {
        var path = Path.Combine(directory, DotnetWorkerCommand.PackagesManifestFileName);
        if (!File.Exists(path))
        {
            return new ImagePackages(directory, new Dictionary<string, string>());
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var versions = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var files = new List<(string File, string Name, string Version)>();
            foreach (var package in doc.RootElement.GetProperty("packages").EnumerateArray())
            {
                var name = package.GetProperty("name").GetString() ?? "";
                var version = package.GetProperty("version").GetString() ?? "";
                versions[name] = version;
                if (package.TryGetProperty("files", out var list))
                {
                    files.AddRange(list.EnumerateArray().Select(f => (f.GetString() ?? "", name, version)));
                }
            }

            var result = new ImagePackages(directory, versions) { Present = true };
            foreach (var (file, name, version) in files)
            {
                result._byFile[Path.GetFileName(file)] = (name, version);
            }

            return result;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FlyteSharpException($"the image's package manifest is not valid: {ex.Message}", path,
                fix: "rebuild the image (its NuGet layer writes this file)", inner: ex);
        }
    }

    /// <summary>The package an assembly file of the layer comes from, when the manifest says.</summary>
    public (string Name, string Version)? PackageOf(string assemblyFileName) =>
        _byFile.TryGetValue(assemblyFileName, out var package) ? package : null;
}
