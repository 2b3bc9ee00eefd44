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
        Write($"{at}/uv.lock", "version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"workspace-app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n\n[package.metadata]\n\n[package.metadata.requires-dev]\ndev = [{ name = \"pytest\" }]\netl = [{ name = \"pandas\" }]\nml = [{ name = \"scikit-learn\" }]\n");
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

    /// <summary>
    /// A uv workspace in miniature: root package <c>ws-root</c> (src layout), member <c>core</c> (src layout) and member
    /// <c>tools</c> (flat layout, depends on core), each with dependency groups; a lock whose metadata matches them.
    /// </summary>
    public string WriteUvWorkspace(string at = "uvws")
    {
        Write($"{at}/pyproject.toml", """
            [project]
            name = "ws-root"
            version = "0.1.0"
            requires-python = ">=3.11"
            dependencies = ["core", "tools", "requests>=2.31"]

            [dependency-groups]
            dev = ["pytest>=8"]

            [tool.uv.sources]
            core = { workspace = true }
            tools = { workspace = true }

            [tool.uv.workspace]
            members = ["packages/*"]
            exclude = ["packages/scratch"]
            """);
        Write($"{at}/src/ws_root/__init__.py", "");
        Write($"{at}/packages/core/pyproject.toml", """
            [project]
            name = "core"
            version = "0.1.0"
            dependencies = ["numpy >= 1.26, <3"]

            [project.optional-dependencies]
            fast = ["orjson"]

            [dependency-groups]
            etl = ["pandas"]
            """);
        Write($"{at}/packages/core/src/core_lib/__init__.py", "def double(x):\n    return 2 * x\n");
        Write($"{at}/packages/tools/pyproject.toml", """
            [project]
            name = "tools"
            version = "0.1.0"
            dependencies = ["core"]

            [tool.uv.sources]
            core = { workspace = true }
            """);
        Write($"{at}/packages/tools/tools_pkg/__init__.py", "");
        Write($"{at}/packages/tools/tools_pkg/run.py", "from core_lib import double\n\ndef go(x: int) -> int:\n    return double(x) + 1\n");
        Write($"{at}/packages/scratch/notes.txt", "not a package");
        Write($"{at}/uv.lock", """
            version = 1
            revision = 3
            requires-python = ">=3.11"

            [manifest]
            members = ["core", "tools", "ws-root"]

            [[package]]
            name = "core"
            version = "0.1.0"
            source = { editable = "packages/core" }

            [package.metadata]
            requires-dist = [
                { name = "numpy", specifier = ">=1.26,<3" },
                { name = "orjson", marker = "extra == 'fast'" },
            ]
            provides-extras = ["fast"]

            [package.metadata.requires-dev]
            etl = [{ name = "pandas" }]

            [[package]]
            name = "tools"
            version = "0.1.0"
            source = { editable = "packages/tools" }

            [package.metadata]
            requires-dist = [{ name = "core", editable = "packages/core" }]

            [[package]]
            name = "ws-root"
            version = "0.1.0"
            source = { editable = "." }

            [package.metadata]
            requires-dist = [
                { name = "core", editable = "packages/core" },
                { name = "requests", specifier = ">=2.31" },
                { name = "tools", editable = "packages/tools" },
            ]

            [package.metadata.requires-dev]
            dev = [{ name = "pytest", specifier = ">=8" }]
            """);
        return Path($"{at}/pyproject.toml");
    }

    public static ResolvedImage Resolve(Image image, CopyStyle copyStyle = CopyStyle.All, string? rootDir = null) =>
        image.Resolve(new ImageResolveOptions(Config with { RootDir = rootDir }, copyStyle), new FileDigestCache(TimeProvider.System));

    public void Dispose() => _tree.Dispose();
}
