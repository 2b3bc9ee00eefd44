using FlyteSharp.Configuration;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// A throw-away project for container tests: Python sources under <c>src/</c>, a private FlyteSharp home
/// (store, run database, build logs) and settings that point at the real registry and the debootstrap base.
/// </summary>
public sealed class PodmanProject : IDisposable
{
    /// <summary>Creates the project; images go to <paramref name="registry"/> under a repository unique to this project.</summary>
    public PodmanProject(DistributionRegistry registry)
    {
        Directory.CreateDirectory(SrcDir);
        Repository = "flytesharp-test/p" + Guid.NewGuid().ToString("N")[..10];
        Config = new FlyteConfig
        {
            Home = System.IO.Path.Combine(Root, "home"),
            Registry = registry.Host,
            ImageName = Repository,
            PythonBaseImage = BaseImage.Reference,
            InsecureRegistries = [registry.Host],
            Builder = ImageBuilderKind.Podman,
            RunDatabase = System.IO.Path.Combine(Root, "home", "runs.db"),
        };
    }

    /// <summary>The project's root folder.</summary>
    public string Root { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flytesharp-it-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>root_dir: the Python sources.</summary>
    public string SrcDir => System.IO.Path.Combine(Root, "src");

    /// <summary>The image repository this project's images are pushed to.</summary>
    public string Repository { get; }

    /// <summary>Settings for runs, builds and deploys of this project.</summary>
    public FlyteConfig Config { get; set; }

    /// <summary>A runtime over <see cref="Config"/> with src/ as root_dir.</summary>
    public FlyteRuntime Runtime => new(Config with { RootDir = SrcDir });

    /// <summary>Where builder output is captured, one file per built tag.</summary>
    public string BuildLogDirectory => System.IO.Path.Combine(Config.Home, "logs", "builds");

    /// <summary>Build logs written so far (one per image actually built).</summary>
    public IReadOnlyList<string> BuildLogs() =>
        Directory.Exists(BuildLogDirectory) ? Directory.GetFiles(BuildLogDirectory, "*.log").Order(StringComparer.Ordinal).ToList() : [];

    /// <summary>Writes a file under src/, creating package <c>__init__.py</c> files on the way.</summary>
    public PodmanProject WritePython(string relativePath, string content)
    {
        var path = System.IO.Path.Combine(SrcDir, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
        for (var dir = System.IO.Path.GetDirectoryName(path)!; dir.Length > SrcDir.Length; dir = System.IO.Path.GetDirectoryName(dir)!)
        {
            var init = System.IO.Path.Combine(dir, "__init__.py");
            if (!File.Exists(init))
            {
                File.WriteAllText(init, "");
            }
        }

        return this;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
