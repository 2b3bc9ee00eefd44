using FlyteSharp.Projects.Uv;
using FlyteSharp.Tests.Images;

namespace FlyteSharp.Tests.Projects.Uv;

public sealed class UvLockFreshnessTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private IReadOnlyList<UvLockDrift> Check() =>
        UvLockFreshness.Check(UvWorkspace.Load(UvProject.Load(_tree.Path("uvws/pyproject.toml"))), UvLock.Load(_tree.Path("uvws/uv.lock")));

    [Fact]
    public void Check_LockMatches_FindsNothing()
    {
        _tree.WriteUvWorkspace();
        Assert.Empty(Check());
    }

    [Fact]
    public void Check_DependencyAddedToMember_ReportsItForThatMember()
    {
        _tree.WriteUvWorkspace();
        Edit("uvws/packages/core/pyproject.toml", "dependencies = [\"numpy >= 1.26, <3\"]", "dependencies = [\"numpy >= 1.26, <3\", \"rich>=13\"]");
        var drift = Assert.Single(Check());
        Assert.Equal("core", drift.Package.Name);
        Assert.Equal(["rich>=13"], drift.Added);
        Assert.Empty(drift.Removed);
        Assert.Equal("uv.lock is out of date with the pyproject.toml of 'core' (added: rich>=13)", drift.Reason);
    }

    [Fact]
    public void Check_DependencyRemovedFromRoot_ReportsRemoved()
    {
        _tree.WriteUvWorkspace();
        Edit("uvws/pyproject.toml", ", \"requests>=2.31\"", "");
        var drift = Assert.Single(Check());
        Assert.True(drift.Package.IsRoot);
        Assert.Equal(["requests>=2.31"], drift.Removed);
    }

    [Theory]
    [InlineData("numpy >= 1.26, <3", "numpy>=1.27,<3")]
    [InlineData("numpy >= 1.26, <3", "numpy[extra]>=1.26,<3")]
    public void Check_SpecifierOrExtrasChanged_IsStale(string before, string after)
    {
        _tree.WriteUvWorkspace();
        Edit("uvws/packages/core/pyproject.toml", before, after);
        Assert.Equal([after], Assert.Single(Check()).Added);
    }

    [Theory]
    [InlineData("numpy >= 1.26, <3", "NumPy<3,>=1.26")]
    [InlineData("numpy >= 1.26, <3", "numpy>=1.26,<3 ; python_version >= '3.11'")]
    public void Check_SameRequirementWrittenDifferently_IsFresh(string before, string after)
    {
        _tree.WriteUvWorkspace();
        Edit("uvws/packages/core/pyproject.toml", before, after);
        Assert.Empty(Check());
    }

    [Fact]
    public void Check_GroupAndExtraChanges_AreCompared()
    {
        _tree.WriteUvWorkspace();
        Edit("uvws/packages/core/pyproject.toml", "etl = [\"pandas\"]", "etl = [\"pandas\", \"pyarrow\"]");
        Edit("uvws/packages/core/pyproject.toml", "fast = [\"orjson\"]", "fast = []");
        var drift = Assert.Single(Check());
        Assert.Equal(["pyarrow"], drift.Added);
        Assert.Equal(["orjson"], drift.Removed);
    }

    [Fact]
    public void Check_MemberMissingFromLock_IsStale()
    {
        _tree.WriteUvWorkspace();
        _tree.Write("uvws/packages/extra/pyproject.toml", "[project]\nname = \"extra\"\nversion = \"0.1.0\"\n");
        Assert.Equal("extra", Assert.Single(Check()).Package.Name);
    }

    [Theory]
    [InlineData("requests >= 2.31", "requests", "", ">=2.31")]
    [InlineData("Foo_Bar[Baz, qux] (>=1, <2) ; sys_platform == 'linux'", "Foo_Bar", "Baz,qux", "<2,>=1")]
    [InlineData("pkg @ https://example.com/pkg.whl", "pkg", "", "")]
    public void Parse_Pep508_ReadsNameExtrasAndNormalizedSpecifier(string text, string name, string extras, string specifier)
    {
        var parsed = UvLockFreshness.Parse(text)!.Value;
        Assert.Equal((name, extras, specifier), (parsed.Name, string.Join(',', parsed.Extras), UvLockFreshness.NormalizeSpecifier(parsed.Specifier)));
    }

    private void Edit(string relative, string from, string to)
    {
        var path = _tree.Path(relative);
        var text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));
    }
}
