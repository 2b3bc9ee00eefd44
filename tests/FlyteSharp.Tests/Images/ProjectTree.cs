using FlyteSharp.Configuration;
using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

/// <summary>A temporary folder holding small uv projects for image tests; deleted on dispose.</summary>
internal sealed class ProjectTree : IDisposable
{
    public const string GroupsPyproject = """
        [project]
        name = "workspace-app"
        version = "0.1.0"
        requires-python = ">=3.11"
        dependencies = []

        [tool.uv]
        package = true

        [dependency-groups]
        etl = ["pandas"]
        ml = ["scikit-learn"]
        dev = ["pytest"]
        """;

    private readonly TempTree _tree = new("flytesharp-images-");

    public string Root => _tree.Root;

    /// <summary>Settings with fixed values, independent of the machine's environment.</summary>
    public static FlyteConfig Config { get; } = new()
    {
        Registry = "localhost:5000",
        ImageName = "flytesharp",
        PythonBaseImage = "python:{python}-slim-bookworm",
        UvImage = "ghcr.io/astral-sh/uv:0.9.5",
    };

    public string Path(string relative) => _tree.PathOf(relative);

    public string Write(string relative, string content) => _tree.Write(relative, content);

    /// <summary>Pattern A in miniature: one pyproject with groups, a lock, and code under src/.</summary>
    public string WriteWorkspace(string at = "ws")
    {
        Write($"{at}/pyproject.toml", GroupsPyproject);
        Write($"{at}/uv.lock", "version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"workspace-app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n");
        Write($"{at}/src/workspace_app/__init__.py", "");
        Write($"{at}/src/workspace_app/tasks.py", "def f():\n    return 1\n");
        Write($"{at}/src/lib_transforms/ops.py", "def normalize(x):\n    return x\n");
        return Path($"{at}/pyproject.toml");
    }

    /// <summary>Pattern B in miniature: my_app with an editable path dependency on ../my_lib.</summary>
    public string WriteSiblings(string at = "sib")
    {
        Write($"{at}/my_app/pyproject.toml", """
            [project]
            name = "my-app"
            version = "0.1.0"
            requires-python = ">=3.11"
            dependencies = ["my-lib"]

            [tool.uv.sources]
            my-lib = { path = "../my_lib", editable = true }
            """);
        Write($"{at}/my_app/src/my_app/tasks.py", "def compute_stats(values):\n    return {}\n");
        Write($"{at}/my_lib/pyproject.toml", "[project]\nname = \"my-lib\"\nversion = \"0.1.0\"\n");
        Write($"{at}/my_lib/src/my_lib/stats.py", "def mean(v):\n    return sum(v) / len(v)\n");
        return Path($"{at}/my_app/pyproject.toml");
    }

    public static ResolvedImage Resolve(Image image, CopyStyle copyStyle = CopyStyle.All, string? rootDir = null) =>
        image.Resolve(new ImageResolveOptions(Config with { RootDir = rootDir }, copyStyle), new FileDigestCache(TimeProvider.System));

    public void Dispose() => _tree.Dispose();
}
