using FlyteSharp.Projects.Uv;

namespace FlyteSharp.Tests.Projects.Uv;

/// <summary>Real uv projects from public repositories (see RealLocks/README.md for where each comes from).</summary>
public sealed class UvLockFreshnessRealLockTests : IDisposable
{
    private static readonly string Source = Path.Combine(AppContext.BaseDirectory, "Projects", "Uv", "RealLocks");
    private readonly TempTree _tree = new("flytesharp-reallocks-");

    public void Dispose() => _tree.Dispose();

    public static TheoryData<string> Projects() => ["uv-workspace-example-cable", "uv-workspace-source-overrides", "uv-path-dependencies"];

    [Theory]
    [MemberData(nameof(Projects))]
    public void Check_RealLockAsCommitted_IsCurrent(string project)
    {
        var root = Copy(project);
        var drifts = UvLockFreshness.Check(UvWorkspace.Load(UvProject.Load(Path.Combine(root, "pyproject.toml"))), UvLock.Load(Path.Combine(root, "uv.lock")));
        Assert.True(drifts.Count == 0, string.Join("\n", drifts.Select(d => d.Reason)));
    }

    [Theory]
    [InlineData("uv-workspace-example-cable", "packages/cable-core/pyproject.toml", "cable-core")]
    [InlineData("uv-workspace-source-overrides", "packages/lib/pyproject.toml", "lib")]
    [InlineData("uv-path-dependencies", "libs/lib-core/pyproject.toml", "lib-core")]
    [InlineData("uv-path-dependencies", "pyproject.toml", "case1")]
    public void Check_DependencyAddedWithoutRelocking_IsStale(string project, string pyproject, string package)
    {
        var root = Copy(project);
        var file = Path.Combine(root, pyproject);
        var text = File.ReadAllText(file);
        var edited = text.Replace("dependencies = [", "dependencies = [\"rich>=13\", ", StringComparison.Ordinal);
        Assert.NotEqual(text, edited);
        File.WriteAllText(file, edited);

        var drift = Assert.Single(UvLockFreshness.Check(UvWorkspace.Load(UvProject.Load(Path.Combine(root, "pyproject.toml"))), UvLock.Load(Path.Combine(root, "uv.lock"))));
        Assert.Equal(package, drift.Package.Name);
        Assert.Equal(["rich>=13"], drift.Added);
    }

    private string Copy(string project)
    {
        var from = Path.Combine(Source, project);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(_tree.Root, project, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return Path.Combine(_tree.Root, project);
    }
}
