using FlyteSharp.Projects.Uv;
using FlyteSharp.Tests.Images;

namespace FlyteSharp.Tests.Projects.Uv;

public sealed class UvLockTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Load_Packages_AreReadWithSources()
    {
        // Same shape as a real uv lock (revision 3); hash fields omitted because this fixture is hand-written.
        var file = _tree.Write("uv.lock", """
            version = 1
            revision = 3
            requires-python = ">=3.11"

            [[package]]
            name = "my-app"
            version = "0.1.0"
            source = { editable = "." }
            dependencies = [{ name = "my-lib" }]

            [[package]]
            name = "my-lib"
            version = "0.1.0"
            source = { editable = "../my_lib" }

            [[package]]
            name = "six"
            version = "1.17.0"
            source = { registry = "https://pypi.org/simple" }
            """);
        var lockFile = UvLock.Load(file);
        Assert.Equal(1, lockFile.Version);
        Assert.Equal(3, lockFile.Revision);
        Assert.Equal(["my-app", "my-lib", "six"], lockFile.Packages.Select(p => p.Name));
        Assert.Equal("../my_lib", lockFile.Packages[1].Source);
        Assert.True(lockFile.Packages[1].IsLocal);
        Assert.False(lockFile.Packages[2].IsLocal);
        Assert.Equal("registry", lockFile.Packages[2].SourceKind);
    }

    [Fact]
    public void Load_NoVersion_Throws() =>
        Assert.Contains("not a uv lock", Assert.Throws<FlyteSharpException>(() => UvLock.Load(_tree.Write("uv.lock", "[[package]]\nname = \"x\"\n"))).Message);

    [Fact]
    public void Load_GarbageFile_SaysRegenerateWithUvLockNotFixTheSyntax()
    {
        var file = _tree.Write("uv.lock", "version = 1\n<<<<<<< HEAD\n[[package]\nname = \"x\n");

        var ex = Assert.Throws<FlyteSharpException>(() => UvLock.Load(file));

        Assert.Contains("malformed TOML", ex.Reason);
        Assert.Equal(Path.GetFullPath(file), ex.File);
        Assert.Contains("regenerate it with `uv lock`", ex.Fix);
        Assert.DoesNotContain("fix the TOML syntax", ex.Fix);
    }

    [Fact]
    public void Load_UnsupportedVersion_ThrowsWithLine() =>
        Assert.Equal(1, Assert.Throws<FlyteSharpException>(() => UvLock.Load(_tree.Write("uv.lock", "version = 2\n"))).Line);
}
