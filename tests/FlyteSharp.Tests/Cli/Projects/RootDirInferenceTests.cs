using FlyteSharp.Cli.Projects;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Cli.Projects;

public class RootDirInferenceTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flytesharp-tests", Guid.NewGuid().ToString("n"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string Write(string relative, string content)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private string Project(string folder, string extra = "")
    {
        var name = Path.GetFileName(folder.TrimEnd('/')) is { Length: > 0 } n ? n : "root";
        return Write(Path.Combine(folder, "pyproject.toml"), $"[project]\nname = \"{name}\"\nversion = \"0.1.0\"\n{extra}");
    }

    private static TaskEnvironment Env(string name, string pyproject) => new(name, Image.FromDebianBase().WithUvProject(pyproject));

    [Fact]
    public void Infer_SrcLayout_GivesSrc()
    {
        var pyproject = Project("app");
        Write("app/src/my_app/__init__.py", "");

        var (rootDir, reason) = RootDirInference.Infer([Env("etl", pyproject)])!.Value;

        Assert.Equal(Path.Combine(_root, "app", "src"), rootDir);
        Assert.Contains("environment 'etl'", reason);
    }

    [Fact]
    public void Infer_FlatLayout_GivesProjectFolder()
    {
        var pyproject = Project("app");
        Write("app/my_app/__init__.py", "");

        Assert.Equal(Path.Combine(_root, "app"), RootDirInference.Infer([Env("etl", pyproject)])!.Value.RootDir);
    }

    [Fact]
    public void Infer_WorkspaceMembers_GiveTheWorkspaceRoot()
    {
        Project("", "[tool.uv.workspace]\nmembers = [\"packages/*\"]\n");
        var a = Project("packages/a");
        var b = Project("packages/b");
        Write("packages/a/src/a/__init__.py", "");
        Write("src/shared/__init__.py", "");

        var (rootDir, reason) = RootDirInference.Infer([Env("etl", a), Env("ml", b)])!.Value;

        Assert.Equal(Path.Combine(_root, "src"), rootDir);
        Assert.Contains("environment 'etl'", reason);
        Assert.Contains("environment 'ml'", reason);
    }

    [Fact]
    public void Infer_ProjectsInDifferentPlaces_ThrowsListingCandidatesAndTheFlag()
    {
        var a = Project("one");
        var b = Project("two");
        Write("one/src/one/__init__.py", "");

        var ex = Assert.Throws<FlyteSharpException>(() => RootDirInference.Infer([Env("etl", a), Env("ml", b)]));

        Assert.Contains(Path.Combine(_root, "one", "src") + "  (from environment 'etl'", ex.Message);
        Assert.Contains(Path.Combine(_root, "two") + "  (from environment 'ml'", ex.Message);
        Assert.Contains("--root-dir", ex.Message);
    }

    [Fact]
    public void Infer_NoUvProjects_IsNull() =>
        Assert.Null(RootDirInference.Infer([new TaskEnvironment("etl", Image.FromDebianBase())]));
}
