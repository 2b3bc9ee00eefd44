using System.Diagnostics;
using FlyteSharp.Bundles;

namespace FlyteSharp.Tests.Bundles;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class BundleFilesTests
{
    private static List<string> Paths(string root) => BundleFiles.Select(root).Select(f => f.RelativePath).ToList();

    [Fact]
    public void Select_FlatTree_ReturnsPosixRelativePathsSortedOrdinally()
    {
        using var t = new TempTree();
        t.Write("b.py");
        t.Write("a/z.py");
        t.Write("a/B.py");
        t.Write("A.py");
        t.Write("a-b/c.py");

        Assert.Equal(["A.py", "a-b/c.py", "a/B.py", "a/z.py", "b.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_StandardIgnores_ExcludesCachesVenvsAndBuildOutput()
    {
        using var t = new TempTree();
        t.Write("pkg/mod.py");
        foreach (var ignored in new[]
                 {
                     ".git/config", ".venv/lib/x.py", "venv/x.py", "pkg/__pycache__/mod.cpython-311.pyc", "pkg/stray.pyc",
                     ".mypy_cache/x", ".pytest_cache/x", ".ruff_cache/x", ".idea/x.xml", "pkg.egg-info/PKG-INFO",
                     "dist/pkg.whl", "build/lib/x.py", "bin/Debug/x.dll", "obj/x.json", "pkg/sub/build/out.txt",
                 })
        {
            t.Write(ignored);
        }

        Assert.Equal(["pkg/mod.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_GitFile_IsExcluded()
    {
        using var t = new TempTree();
        t.Write(".git", "gitdir: /elsewhere");
        t.Write("main.py");
        Assert.Equal(["main.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_NestedGitignoreWithNegation_FollowsGitSemantics()
    {
        using var t = new TempTree();
        t.Write(".gitignore", "*.log\n!keep.log\n/top_only.txt\ndata/\n# comment\n\ndocs/*.html\n**/secret\n");
        t.Write("a.log");
        t.Write("keep.log");
        t.Write("top_only.txt");
        t.Write("sub/top_only.txt");
        t.Write("data/x.csv");
        t.Write("sub/data/y.csv");
        t.Write("data.txt");
        t.Write("docs/a.html");
        t.Write("docs/deep/b.html");
        t.Write("x/y/secret");
        t.Write("secret");
        t.Write("pkg/.gitignore", "!a.log\nlocal.txt\n/anchored.txt\n");
        t.Write("pkg/a.log");
        t.Write("pkg/b.log");
        t.Write("pkg/local.txt");
        t.Write("local.txt");
        t.Write("pkg/anchored.txt");
        t.Write("pkg/inner/anchored.txt");
        t.Write("main.py");

        Assert.Equal(
        [
            ".gitignore", "data.txt", "docs/deep/b.html", "keep.log", "local.txt", "main.py",
            "pkg/.gitignore", "pkg/a.log", "pkg/inner/anchored.txt", "sub/top_only.txt",
        ], Paths(t.Root));
    }

    [Fact]
    public void Select_ExcludedDirectory_CannotBeReincludedByNegatedFile()
    {
        using var t = new TempTree();
        t.Write(".gitignore", "logs/\n!logs/important.log\n");
        t.Write("logs/important.log");
        t.Write("main.py");
        Assert.Equal([".gitignore", "main.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_StarThenNegatedDirectory_DoesNotReincludeFilesMatchedByStar()
    {
        // git: "*" excludes files by basename everywhere; "!src/" only re-includes the directory itself.
        using var t = new TempTree();
        t.Write(".gitignore", "*\n!src/\n!*.py\n");
        t.Write("src/a.py");
        t.Write("src/a.txt");
        t.Write("readme.md");
        Assert.Equal(["src/a.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_Flyteignore_AppliesAfterGitignoreAndCanReinclude()
    {
        using var t = new TempTree();
        t.Write(".gitignore", "generated.py\n");
        t.Write(".flyteignore", "!generated.py\nnotebooks/\n");
        t.Write("generated.py");
        t.Write("notebooks/x.ipynb");
        t.Write("sub/.flyteignore", "*.csv\n");
        t.Write("sub/a.csv");
        t.Write("b.csv");
        Assert.Equal([".flyteignore", ".gitignore", "b.csv", "generated.py", "sub/.flyteignore"], Paths(t.Root));
    }

    [Theory]
    [InlineData(".env")]
    [InlineData("config/.env")]
    [InlineData(".env.production")]
    [InlineData("certs/server.pem")]
    [InlineData("certs/server.key")]
    [InlineData("certs/client.p12")]
    [InlineData("id_rsa")]
    [InlineData("keys/id_ed25519.pub")]
    [InlineData(".netrc")]
    [InlineData(".npmrc")]
    [InlineData(".pypirc")]
    [InlineData(".git-credentials")]
    [InlineData(".docker/config.json")]
    [InlineData("home/.docker/config.json")]
    [InlineData(".aws/credentials")]
    [InlineData(".ssh/known_hosts")]
    [InlineData(".kube/config")]
    public void Select_CredentialFile_IsLeftOutByDefault(string credential)
    {
        using var t = new TempTree();
        t.Write("pkg/mod.py");
        t.Write(credential, "SECRET=1");
        Assert.Equal(["pkg/mod.py"], Paths(t.Root));
    }

    [Theory]
    [InlineData("run.log")]
    [InlineData("pkg/debug.log")]
    [InlineData(".cache/pip/x")]
    [InlineData("wheels/pkg-1.0-py3-none-any.whl")]
    [InlineData("pkg-1.0-py3.11.egg")]
    [InlineData("notebooks/.ipynb_checkpoints/a-checkpoint.ipynb")]
    [InlineData("env/lib/python3.11/site.py")]
    [InlineData(".tox/py311/x")]
    public void Select_FlyteStandardIgnore_IsLeftOut(string ignored)
    {
        using var t = new TempTree();
        t.Write("pkg/mod.py");
        t.Write(ignored);
        Assert.Equal(["pkg/mod.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_NamesThatOnlyResembleCredentials_AreKept()
    {
        using var t = new TempTree();
        foreach (var kept in new[] { ".docker/daemon.json", "x.docker/config.json", "my_id_rsa.py", "keys.py", "pem.py", ".envrc", "aws/config.py" })
        {
            t.Write(kept);
        }

        Assert.Equal([".docker/daemon.json", ".envrc", "aws/config.py", "keys.py", "my_id_rsa.py", "pem.py", "x.docker/config.json"], Paths(t.Root));
    }

    [Fact]
    public void Select_BuildScriptFile_IsKeptUnlikeBuildDirectory()
    {
        using var t = new TempTree();
        t.Write("build", "#!/bin/sh\n");
        t.Write("build.py");
        t.Write("environment.py");
        t.Write(".envrc.py");
        Assert.Equal([".envrc.py", "build", "build.py", "environment.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_ReincludedCredentialFile_IsShippedWithWarningNamingFileAndRule()
    {
        using var t = new TempTree();
        t.Write("config/.flyteignore", "# the app reads it at start\n!.env\n");
        t.Write("config/.env", "TOKEN=1");
        t.Write("config/settings.py");
        t.Write(".env", "TOKEN=2");
        var warnings = new List<string>();

        var paths = BundleFiles.Select(t.Root, warnings.Add).Select(f => f.RelativePath).ToList();

        Assert.Equal(["config/.env", "config/.flyteignore", "config/settings.py"], paths);
        var warning = Assert.Single(warnings);
        Assert.Contains("'config/.env' is a credential file", warning);
        Assert.Contains("'!.env'", warning);
        Assert.Contains(t.PathOf("config/.flyteignore") + ":2", warning);
    }

    [Fact]
    public void Select_ReincludedCredentialDirectory_WarnsOnceForTheDirectory()
    {
        using var t = new TempTree();
        t.Write(".flyteignore", "!.aws/\n");
        t.Write(".aws/credentials");
        t.Write(".aws/config");
        var warnings = new List<string>();

        var paths = BundleFiles.Select(t.Root, warnings.Add).Select(f => f.RelativePath).ToList();

        Assert.Equal([".aws/config", ".aws/credentials", ".flyteignore"], paths);
        Assert.Contains("'.aws/' is a credential directory", Assert.Single(warnings));
    }

    [Fact]
    public void Select_ReincludedNonCredentialIgnore_DoesNotWarn()
    {
        using var t = new TempTree();
        t.Write(".flyteignore", "!build/\n!*.log\n");
        t.Write("build/x.py");
        t.Write("a.log");
        var warnings = new List<string>();
        Assert.Equal(3, BundleFiles.Select(t.Root, warnings.Add).Count);
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task CreateAsync_ReincludedCredential_ReportsWarningThroughOptions()
    {
        using var t = new TempTree();
        using var cache = new TempTree();
        t.Write(".flyteignore", "!deploy.pem\n");
        t.Write("deploy.pem");
        t.Write("main.py");
        var warnings = new List<string>();
        var bundle = await CodeBundler.CreateAsync(t.Root, new BundleOptions { CacheDirectory = cache.Root, Warning = warnings.Add },
            TestContext.Current.CancellationToken);
        Assert.Equal(3, bundle.FileCount);
        Assert.Contains("'deploy.pem' is a credential file", Assert.Single(warnings));
    }

    [Fact]
    public void Select_StandardIgnore_CanBeReincludedByFlyteignore()
    {
        using var t = new TempTree();
        t.Write(".flyteignore", "!build/\n");
        t.Write("build/__init__.py");
        Assert.Equal([".flyteignore", "build/__init__.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_ExecutableBit_IsReported()
    {
        using var t = new TempTree();
        var script = t.Write("run.sh", "#!/bin/sh\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        t.Write("lib.py", "12345");

        var files = BundleFiles.Select(t.Root);
        Assert.False(files.Single(f => f.RelativePath == "lib.py").Executable);
        Assert.Equal(5, files.Single(f => f.RelativePath == "lib.py").Length);
        Assert.True(files.Single(f => f.RelativePath == "run.sh").Executable);
    }

    [Fact]
    public void Select_SymlinkInsideRoot_IsStoredAsTargetContent()
    {
        using var t = new TempTree();
        t.Write("real/config.py", "abc");
        File.CreateSymbolicLink(t.PathOf("alias.py"), "real/config.py");
        Directory.CreateSymbolicLink(t.PathOf("linked"), "real");

        var files = BundleFiles.Select(t.Root);
        Assert.Equal(["alias.py", "linked/config.py", "real/config.py"], files.Select(f => f.RelativePath));
        Assert.All(files, f => Assert.Equal(3, f.Length));
    }

    [Fact]
    public void Select_SymlinkOutsideRoot_ThrowsNamingTheLink()
    {
        using var outside = new TempTree();
        outside.Write("secret.txt");
        using var t = new TempTree();
        File.CreateSymbolicLink(t.PathOf("leak.txt"), outside.PathOf("secret.txt"));

        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(t.Root));
        Assert.Equal(t.PathOf("leak.txt"), ex.File);
        Assert.Contains("outside root_dir", ex.Reason);
    }

    [Fact]
    public void Select_RelativeSymlinkEscapingThroughDotDot_Throws()
    {
        using var t = new TempTree();
        t.Write("src/a.py");
        t.Write("other.txt");
        File.CreateSymbolicLink(Path.Combine(t.Root, "src", "up.txt"), "../other.txt");
        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(Path.Combine(t.Root, "src")));
        Assert.Contains("outside root_dir", ex.Reason);
    }

    [Fact]
    public void Select_IgnoredSymlinkOutsideRoot_IsNotAnError()
    {
        using var t = new TempTree();
        t.Write("main.py");
        Directory.CreateSymbolicLink(t.PathOf(".venv"), "/usr");
        Assert.Equal(["main.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_BrokenSymlink_ThrowsNamingTheLink()
    {
        using var t = new TempTree();
        File.CreateSymbolicLink(t.PathOf("dangling.py"), "nowhere.py");
        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(t.Root));
        Assert.Equal(t.PathOf("dangling.py"), ex.File);
    }

    [Fact]
    public void Select_SymlinkLoop_Throws()
    {
        using var t = new TempTree();
        t.Write("a/x.py");
        Directory.CreateSymbolicLink(t.PathOf("a/loop"), "..");
        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(t.Root));
        Assert.Contains("loop", ex.Reason);
    }

    [Fact]
    public void Select_Fifo_ThrowsNamingIt()
    {
        using var t = new TempTree();
        var fifo = t.PathOf("pipe");
        using (var p = Process.Start("mkfifo", fifo))
        {
            p.WaitForExit();
        }

        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(t.Root));
        Assert.Equal(fifo, ex.File);
    }

    [Theory]
    [InlineData(@"a\b.py", "backslash in the path", @"a\\b.py")]
    [InlineData(@"pkg\..\..\x.py", "backslash in the path", @"pkg\\..\\..\\x.py")]
    [InlineData(@"pkg/sub\dir/mod.py", "backslash in the path", @"sub\\dir/")]
    [InlineData("c:x.py", "absolute path", null)]
    public void Select_NameTheExtractorWouldRefuse_ThrowsNamingTheFileAndAWorkingFix(string name, string reason, string? ignoreLine)
    {
        using var t = new TempTree();
        t.Write("ok.py");
        var file = t.Write(name);

        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(t.Root));

        Assert.Equal(file, ex.File);
        Assert.Contains(reason, ex.Reason);
        Assert.Contains("every run would refuse to unpack it", ex.Reason);
        if (ignoreLine is null)
        {
            Assert.StartsWith("rename it", ex.Fix);
            return;
        }

        // The ignore line the fix suggests really excludes it.
        Assert.Contains($"exclude it with the line '{ignoreLine}' in .flyteignore", ex.Fix);
        t.Write(".flyteignore", ignoreLine + "\n");
        Assert.Equal([".flyteignore", "ok.py"], Paths(t.Root));
    }

    [Fact]
    public void Select_MissingRoot_ThrowsWithFix()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select("/definitely/not/here"));
        Assert.Equal("root_dir does not exist", ex.Reason);
        Assert.NotNull(ex.Fix);
    }

    [Fact]
    public void Select_RootIsAFile_Throws()
    {
        using var t = new TempTree();
        var file = t.Write("f.py");
        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(file));
        Assert.Contains("not a directory", ex.Reason);
    }

    [Fact]
    public void Select_RootIsASymlinkLoop_SaysSymlinkLoop()
    {
        using var t = new TempTree();
        File.CreateSymbolicLink(t.PathOf("a"), "b");
        File.CreateSymbolicLink(t.PathOf("b"), "a");

        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(t.PathOf("a")));

        Assert.Contains("symlink loop", ex.Reason);
        Assert.Equal(t.PathOf("a"), ex.File);
    }

    [Fact]
    public void Select_RootIsABrokenSymlink_SaysWhereItPoints()
    {
        using var t = new TempTree();
        File.CreateSymbolicLink(t.PathOf("src"), "gone");

        var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(t.PathOf("src")));

        Assert.Contains("broken symlink (points to 'gone'", ex.Reason);
    }

    [Fact]
    public void Select_RootIsASymlinkToADirectory_SelectsItsFiles()
    {
        using var t = new TempTree();
        t.Write("real/app.py");
        Directory.CreateSymbolicLink(t.PathOf("src"), "real");

        Assert.Equal(["app.py"], Paths(t.PathOf("src")));
    }

    [Fact]
    public void Select_FileNameNotUtf8_ThrowsNamingItsBytesAndDirectory()
    {
        using var t = new TempTree();
        t.Write("pkg/ok.py");
        byte[] name = [.. "bad"u8, 0xFF, .. ".py"u8];
        NonUtf8Names.Create(t.PathOf("pkg"), name);
        try
        {
            var ex = Assert.Throws<FlyteSharpException>(() => BundleFiles.Select(t.Root));

            Assert.Equal(@"file name is not valid UTF-8: 'pkg/bad\xff.py'", ex.Reason);
            Assert.Equal(t.PathOf("pkg"), ex.File);
            Assert.Contains(".flyteignore", ex.Fix);
        }
        finally
        {
            NonUtf8Names.Delete(t.PathOf("pkg"), name);
        }
    }

    [Fact]
    public void Select_FileNameNotUtf8ButIgnored_IsSkipped()
    {
        using var t = new TempTree();
        t.Write("ok.py");
        t.Write(".flyteignore", "*.log\n");
        byte[] name = [.. "run"u8, 0xFE, .. ".log"u8];
        NonUtf8Names.Create(t.Root, name);
        try
        {
            Assert.Equal([".flyteignore", "ok.py"], Paths(t.Root));
        }
        finally
        {
            NonUtf8Names.Delete(t.Root, name);
        }
    }

    [Fact]
    public void Warnings_FileSystemRootOrHome_Warns()
    {
        Assert.Single(BundleFiles.Warnings("/"));
        Assert.Single(BundleFiles.Warnings(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)));
        using var t = new TempTree();
        Assert.Empty(BundleFiles.Warnings(t.Root));
    }
}
