using FlyteSharp.Configuration;
using FlyteSharp.Execution;

namespace FlyteSharp.Tests.Execution;

/// <summary>A private FlyteSharp home (run database, sandboxes) and a Python project under src/, deleted afterwards.</summary>
internal sealed class RunFixture : IDisposable
{
    public RunFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(SrcDir);
        Config = new FlyteConfig
        {
            Home = Path.Combine(Root, "home"),
            RunDatabase = Path.Combine(Root, "home", "runs.db"),
            ConsoleUrl = "http://localhost:8177",
        };
    }

    public string Root { get; }

    public string SrcDir => Path.Combine(Root, "src");

    public FlyteConfig Config { get; set; }

    /// <summary>Writes a file under src/ (creating packages' __init__.py files on the way).</summary>
    public RunFixture WritePython(string relativePath, string content)
    {
        var path = Path.Combine(SrcDir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
        for (var dir = Path.GetDirectoryName(path)!; dir.Length > SrcDir.Length; dir = Path.GetDirectoryName(dir)!)
        {
            var init = Path.Combine(dir, "__init__.py");
            if (!File.Exists(init))
            {
                File.WriteAllText(init, "");
            }
        }

        return this;
    }

    /// <summary>A runtime over <see cref="Config"/> with src/ as root_dir.</summary>
    public FlyteRuntime Runtime => RuntimeAt(SrcDir);

    /// <summary>A runtime over <see cref="Config"/> with <paramref name="rootDir"/> as root_dir.</summary>
    public FlyteRuntime RuntimeAt(string? rootDir) => new(Config with { RootDir = rootDir });

    public RunOptions Options(int? maxConcurrency = null) => new()
    {
        MaxConcurrency = maxConcurrency,
        CancellationToken = TestContext.Current.CancellationToken,
    };

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
