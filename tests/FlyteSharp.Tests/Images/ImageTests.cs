using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public sealed class ImageTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void With_AnyLayer_ReturnsNewImageAndLeavesReceiverUnchanged()
    {
        var base_ = Image.FromDebianBase();
        var withApt = base_.WithAptPackages("git");
        var withEnv = withApt.WithEnvVars(new Dictionary<string, string> { ["A"] = "1" });
        Assert.Single(base_.Layers);
        Assert.Equal(2, withApt.Layers.Count);
        Assert.Equal(3, withEnv.Layers.Count);
        Assert.NotEqual(ProjectTree.Resolve(base_).Tag, ProjectTree.Resolve(withApt).Tag);
    }

    [Fact]
    public void Resolve_Tag_IsLowerCaseMd5Hex()
    {
        var tag = ProjectTree.Resolve(Image.FromDebianBase()).Tag;
        Assert.Matches("^[0-9a-f]{32}$", tag);
    }

    [Fact]
    public void Resolve_SameProjectAtTwoAbsolutePaths_GivesSameTag()
    {
        var a = Image.FromDebianBase().WithUvProject(_tree.WriteSiblings("one/deeper"), extraArgs: null).WithSourceFolder(_tree.Path("one/deeper/my_lib/src/my_lib")).WithCodeBundle();
        var b = Image.FromDebianBase().WithUvProject(_tree.WriteSiblings("two"), extraArgs: null).WithSourceFolder(_tree.Path("two/my_lib/src/my_lib")).WithCodeBundle();
        Assert.Equal(ProjectTree.Resolve(a).Tag, ProjectTree.Resolve(b).Tag);
        Assert.Equal(ProjectTree.Resolve(a).Dockerfile, ProjectTree.Resolve(b).Dockerfile);
    }

    [Fact]
    public void Resolve_DependenciesOnlyAfterEditingPythonFile_TagUnchanged()
    {
        var image = Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace(), extraArgs: "--only-group etl").WithCodeBundle();
        var before = ProjectTree.Resolve(image).Tag;
        _tree.Write("ws/src/workspace_app/tasks.py", "def f():\n    return 2  # edited\n");
        _tree.Write("ws/src/workspace_app/new_module.py", "X = 1\n");
        Assert.Equal(before, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void Resolve_AfterEditingUvLock_TagChanges()
    {
        var image = Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace());
        var before = ProjectTree.Resolve(image).Tag;
        File.AppendAllText(_tree.Path("ws/uv.lock"), "\n[[package]]\nname = \"pandas\"\nversion = \"2.2.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n");
        Assert.NotEqual(before, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void Resolve_AfterEditingPyproject_TagChanges()
    {
        var image = Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace());
        var before = ProjectTree.Resolve(image).Tag;
        File.AppendAllText(_tree.Path("ws/pyproject.toml"), "\n# a comment is still a change to the file\n");
        Assert.NotEqual(before, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void Resolve_DifferentExtraArgs_GiveDifferentTags()
    {
        var pyproject = _tree.WriteWorkspace();
        var etl = ProjectTree.Resolve(Image.FromDebianBase().WithUvProject(pyproject, extraArgs: "--only-group etl"));
        var ml = ProjectTree.Resolve(Image.FromDebianBase().WithUvProject(pyproject, extraArgs: "--only-group ml"));
        Assert.NotEqual(etl.Tag, ml.Tag);
        Assert.Contains("--only-group etl", etl.Dockerfile);
        Assert.Contains("--only-group ml", ml.Dockerfile);
    }

    [Fact]
    public void Resolve_DependenciesOnly_ContextHoldsOnlyPyprojectAndLock()
    {
        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace()).WithCodeBundle());
        var layerFiles = resolved.ContextFiles.Where(f => f.StartsWith(".flytesharp/layers/", StringComparison.Ordinal)).ToList();
        Assert.Equal([".flytesharp/layers/1-uv/pyproject.toml", ".flytesharp/layers/1-uv/uv.lock"], layerFiles);
        Assert.DoesNotContain(resolved.ContextFiles, f => f.EndsWith(".py", StringComparison.Ordinal) && !f.EndsWith("flytesharp_runner.py", StringComparison.Ordinal));
        Assert.Contains("uv sync --locked --no-install-project --no-editable", resolved.Dockerfile);
    }

    [Fact]
    public void Resolve_InstallProjectAfterCodeEdit_TagChanges()
    {
        var image = Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace(), installMode: UvInstallMode.InstallProject);
        var resolved = ProjectTree.Resolve(image);
        Assert.Contains(".flytesharp/layers/1-uv/src/workspace_app/tasks.py", resolved.ContextFiles);
        Assert.DoesNotContain("--no-install-project", resolved.Dockerfile);
        _tree.Write("ws/src/workspace_app/tasks.py", "def f():\n    return 3\n");
        Assert.NotEqual(resolved.Tag, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void Resolve_InstallProject_SkipsStandardIgnoresAndDockerignoreMatches()
    {
        var pyproject = _tree.WriteWorkspace();
        _tree.Write("ws/.git/HEAD", "ref: refs/heads/main\n");
        _tree.Write("ws/.venv/bin/python", "");
        _tree.Write("ws/src/workspace_app/__pycache__/tasks.cpython-311.pyc", "x");
        _tree.Write("ws/data/big.csv", "1,2,3\n");
        _tree.Write("ws/.dockerignore", "data\n");
        var image = Image.FromDebianBase().WithUvProject(pyproject, installMode: UvInstallMode.InstallProject);
        var files = ProjectTree.Resolve(image).ContextFiles;
        Assert.DoesNotContain(files, f => f.Contains("/.git/") || f.Contains("/.venv/") || f.Contains("__pycache__") || f.Contains("/data/"));
        var before = ProjectTree.Resolve(image).Tag;
        _tree.Write("ws/data/big.csv", "changed\n");
        _tree.Write("ws/.venv/bin/python", "changed");
        Assert.Equal(before, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void Resolve_WithDockerignore_FiltersSourceFolderAndIsPartOfTag()
    {
        var lib = _tree.Write("lib/pkg/a.py", "A = 1\n");
        _tree.Write("lib/pkg/notes.tmp", "scratch\n");
        var ignore = _tree.Write("ignore/.dockerignore", "*.tmp\n");
        var plain = Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/pkg"));
        var filtered = plain.WithDockerignore(ignore);
        Assert.Contains(".flytesharp/layers/1-source/notes.tmp", ProjectTree.Resolve(plain).ContextFiles);
        Assert.DoesNotContain(".flytesharp/layers/1-source/notes.tmp", ProjectTree.Resolve(filtered).ContextFiles);
        Assert.NotEqual(ProjectTree.Resolve(plain).Tag, ProjectTree.Resolve(filtered).Tag);
        Assert.True(File.Exists(lib));
    }

    [Fact]
    public void Resolve_AfterEditingSourceFolderFile_TagChanges()
    {
        _tree.WriteSiblings();
        var image = Image.FromDebianBase().WithSourceFolder(_tree.Path("sib/my_lib/src/my_lib"));
        var resolved = ProjectTree.Resolve(image);
        Assert.Contains("COPY .flytesharp/layers/1-source/ /root/my_lib/", resolved.Dockerfile);
        _tree.Write("sib/my_lib/src/my_lib/stats.py", "def mean(v):\n    return 0\n");
        Assert.NotEqual(resolved.Tag, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void Resolve_SourceFolderWithDestination_CopiesThere()
    {
        _tree.WriteSiblings();
        var dockerfile = ProjectTree.Resolve(Image.FromDebianBase().WithWorkdir("/app").WithSourceFolder(_tree.Path("sib/my_lib/src/my_lib"), "lib/my_lib")).Dockerfile;
        Assert.Contains("COPY .flytesharp/layers/2-source/ /app/lib/my_lib/", dockerfile);
    }

    [Fact]
    public void Resolve_PathDependency_IsInContextAndTagAndInstalledNonEditable()
    {
        var image = Image.FromDebianBase().WithUvProject(_tree.WriteSiblings());
        var resolved = ProjectTree.Resolve(image);
        Assert.Contains(".flytesharp/layers/1-uv/my_app/pyproject.toml", resolved.ContextFiles);
        Assert.Contains(".flytesharp/layers/1-uv/my_lib/src/my_lib/stats.py", resolved.ContextFiles);
        Assert.DoesNotContain(".flytesharp/layers/1-uv/my_app/src/my_app/tasks.py", resolved.ContextFiles);
        Assert.Contains("cd /tmp/flytesharp/uv-1/my_app", resolved.Dockerfile);
        Assert.Contains("--no-editable", resolved.Dockerfile);
        _tree.Write("sib/my_lib/src/my_lib/stats.py", "def mean(v):\n    return 42\n");
        Assert.NotEqual(resolved.Tag, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void Resolve_RegistryAndName_AreNotPartOfTag()
    {
        var image = Image.FromDebianBase().WithAptPackages("git");
        var a = ProjectTree.Resolve(image);
        var b = ProjectTree.Resolve(image.Clone(registry: "ghcr.io/my-org", name: "etl"));
        Assert.Equal(a.Tag, b.Tag);
        Assert.Equal($"localhost:5000/flytesharp:{a.Tag}", a.Uri);
        Assert.Equal($"ghcr.io/my-org/etl:{a.Tag}", b.Uri);
        Assert.Equal("ghcr.io", b.Registry);
        Assert.Equal("my-org/etl", b.Repository);
    }

    [Fact]
    public void Resolve_ConfiguredBaseAndUvImages_AreUsedAndChangeTag()
    {
        var image = Image.FromDebianBase("3.11").WithUvProject(_tree.WriteWorkspace());
        var mirror = ProjectTree.Config with { PythonBaseImage = "localhost/debian-python:{python}", UvImage = "localhost/uv:0.9.5" };
        var resolved = image.Resolve(new ImageResolveOptions(mirror), new FileDigestCache(TimeProvider.System));
        Assert.StartsWith("FROM localhost/debian-python:3.11\n", resolved.Dockerfile);
        Assert.Contains("--mount=from=localhost/uv:0.9.5,source=/uv,target=/usr/local/bin/uv", resolved.Dockerfile);
        Assert.NotEqual(ProjectTree.Resolve(image).Tag, resolved.Tag);
    }

    [Fact]
    public void Resolve_PythonBase_CopiesRunnerAndPutsVenvOnPath()
    {
        var resolved = ProjectTree.Resolve(Image.FromDebianBase());
        Assert.Contains("COPY .flytesharp/runner/flytesharp_runner.py /opt/flytesharp/flytesharp_runner.py", resolved.Dockerfile);
        Assert.Contains("PATH=/opt/venv/bin:$PATH", resolved.Dockerfile);
        Assert.Contains("UV_PROJECT_ENVIRONMENT=/opt/venv", resolved.Dockerfile);
        Assert.Contains(".flytesharp/runner/flytesharp_runner.py", resolved.ContextFiles);
        Assert.Equal("/opt/venv/bin/python", resolved.PythonExecutable);
        Assert.Equal("/opt/flytesharp/flytesharp_runner.py", resolved.RunnerPath);
    }

    [Fact]
    public void Resolve_CodeBundleFastDeploy_IsNoOp()
    {
        var image = Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace());
        var fast = ProjectTree.Resolve(image.WithCodeBundle());
        Assert.Equal(ProjectTree.Resolve(image).Tag, fast.Tag);
        Assert.Equal(ProjectTree.Resolve(image).Dockerfile, fast.Dockerfile);
        Assert.Null(fast.CodeDirectory);
    }

    [Fact]
    public void Resolve_CodeBundleFullBuild_CopiesBundleFilesUnderRootDir()
    {
        var image = Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace()).WithCodeBundle();
        var full = ProjectTree.Resolve(image, CopyStyle.None, _tree.Path("ws/src"));
        Assert.Contains("COPY .flytesharp/layers/2-code/ /root/", full.Dockerfile);
        Assert.Contains(".flytesharp/layers/2-code/workspace_app/tasks.py", full.ContextFiles);
        Assert.Contains(".flytesharp/layers/2-code/lib_transforms/ops.py", full.ContextFiles);
        Assert.Equal("/root", full.CodeDirectory);
        Assert.NotEqual(ProjectTree.Resolve(image).Tag, full.Tag);
        _tree.Write("ws/src/workspace_app/tasks.py", "def f():\n    return 9\n");
        Assert.NotEqual(full.Tag, ProjectTree.Resolve(image, CopyStyle.None, _tree.Path("ws/src")).Tag);
    }

    [Fact]
    public void Resolve_FullBuildWithoutRootDir_Throws()
    {
        var image = Image.FromDebianBase().WithCodeBundle();
        var ex = Assert.Throws<FlyteSharpException>(() => ProjectTree.Resolve(image, CopyStyle.None));
        Assert.Contains("root_dir", ex.Message);
    }

    [Fact]
    public void Resolve_NoLock_SyncsWithoutLocked()
    {
        _tree.Write("nolock/pyproject.toml", ProjectTree.GroupsPyproject);
        var resolved = ProjectTree.Resolve(Image.FromDebianBase().WithUvProject(_tree.Path("nolock/pyproject.toml")));
        Assert.DoesNotContain("--locked", resolved.Dockerfile);
        Assert.DoesNotContain(".flytesharp/layers/1-uv/uv.lock", resolved.ContextFiles);
    }

    [Fact]
    public void Resolve_OtherLayers_RenderAndHash()
    {
        var req = _tree.Write("requirements.txt", "requests==2.32.0\n");
        var file = _tree.Write("conf/settings.ini", "[a]\n");
        var image = Image.FromDebianBase()
            .WithAptPackages("git", "curl")
            .WithPipPackages("pandas>=2")
            .WithRequirements(req)
            .WithCommands("echo hi")
            .WithEnvVars(new Dictionary<string, string> { ["B"] = "two words", ["A"] = "$HOME" })
            .WithWorkdir("/app")
            .WithSourceFile(file);
        var dockerfile = ProjectTree.Resolve(image).Dockerfile;
        Assert.Contains("apt-get install -y --no-install-recommends git curl", dockerfile);
        Assert.Contains("uv pip install --python /opt/venv/bin/python 'pandas>=2'", dockerfile);
        Assert.Contains("-r /tmp/flytesharp/requirements-3.txt", dockerfile);
        Assert.Contains("RUN echo hi", dockerfile);
        Assert.Contains("ENV A=\"\\$HOME\" \\\n    B=\"two words\"", dockerfile);
        Assert.Contains("WORKDIR /app", dockerfile);
        Assert.Contains("COPY .flytesharp/layers/7-file/settings.ini /app/settings.ini", dockerfile);
        var before = ProjectTree.Resolve(image).Tag;
        File.WriteAllText(req, "requests==2.32.3\n");
        Assert.NotEqual(before, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void Resolve_EnvVarsInsertionOrder_DoesNotChangeTag()
    {
        var a = Image.FromDebianBase().WithEnvVars(new Dictionary<string, string> { ["X"] = "1", ["Y"] = "2" });
        var b = Image.FromDebianBase().WithEnvVars(new Dictionary<string, string> { ["Y"] = "2", ["X"] = "1" });
        Assert.Equal(ProjectTree.Resolve(a).Tag, ProjectTree.Resolve(b).Tag);
    }

    [Fact]
    public void Resolve_FromDockerfile_IncludesItsFolderAndAppendsRunner()
    {
        var dockerfile = _tree.Write("custom/Dockerfile", "FROM debian:bookworm\nCOPY setup.sh /setup.sh\n");
        _tree.Write("custom/setup.sh", "echo setup\n");
        var image = Image.FromDockerfile(dockerfile).WithAptPackages("git");
        var resolved = ProjectTree.Resolve(image);
        Assert.StartsWith("# base: Dockerfile\nFROM debian:bookworm\nCOPY setup.sh /setup.sh\n", resolved.Dockerfile);
        Assert.Contains("setup.sh", resolved.ContextFiles);
        Assert.Contains("/opt/flytesharp/flytesharp_runner.py", resolved.Dockerfile);
        _tree.Write("custom/setup.sh", "echo changed\n");
        Assert.NotEqual(resolved.Tag, ProjectTree.Resolve(image).Tag);
    }

    [Fact]
    public void WithUvProject_MissingPyproject_ThrowsNamingFile()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithUvProject(_tree.Path("missing/pyproject.toml")));
        Assert.Equal(_tree.Path("missing/pyproject.toml"), ex.File);
        Assert.NotNull(ex.Fix);
    }

    [Fact]
    public void WithUvProject_UnknownGroup_ThrowsListingGroups()
    {
        var pyproject = _tree.WriteWorkspace();
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithUvProject(pyproject, extraArgs: "--only-group etll"));
        Assert.Contains("'etll'", ex.Message);
        Assert.Contains("dev, etl, ml", ex.Message);
        Assert.Equal(pyproject, ex.File);
        Assert.Equal(10, ex.Line);
    }

    [Fact]
    public void WithUvProject_ConflictingGroupFlags_Throws()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace(), extraArgs: "--only-group etl --no-group etl"));
        Assert.Contains("both includes", ex.Message);
    }

    [Fact]
    public void WithUvProject_MissingPathDependency_ThrowsWithLine()
    {
        var pyproject = _tree.WriteSiblings();
        Directory.Delete(_tree.Path("sib/my_lib"), recursive: true);
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithUvProject(pyproject));
        Assert.Contains("my-lib", ex.Message);
        Assert.Equal(8, ex.Line);
    }

    [Fact]
    public void WithUvProject_ExplicitMissingLock_Throws()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace(), uvLock: _tree.Path("nope/uv.lock")));
        Assert.Contains("uv lock", ex.Fix);
    }

    [Theory]
    [InlineData("/opt/$APP")]
    [InlineData("/opt/my app")]
    [InlineData("/opt/\"q\"")]
    public void WithWorkdir_PathADockerfileWouldNotTakeLiterally_ThrowsNamingItAndTheFix(string path)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithWorkdir(path));

        Assert.Contains($"workdir '{path}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("letters, digits", ex.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lib/$HOME")]
    [InlineData("/srv/two words")]
    [InlineData("/srv/`id`")]
    public void WithSourceFolder_DestinationADockerfileWouldNotTakeLiterally_Throws(string destination)
    {
        _tree.Write("lib/pkg/a.py", "A = 1\n");

        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/pkg"), destination));

        Assert.Contains($"image destination '{destination}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_SourceFolderNamedWithASpaceAndNoDestination_ThrowsAskingForADestination()
    {
        _tree.Write("lib/my pkg/a.py", "A = 1\n");
        var image = Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/my pkg"));

        var ex = Assert.Throws<FlyteSharpException>(() => ProjectTree.Resolve(image));

        Assert.Contains("whitespace", ex.Message, StringComparison.Ordinal);
        Assert.Contains("explicit destination", ex.Fix, StringComparison.Ordinal);
        var withDestination = Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/my pkg"), "/opt/my_pkg");
        Assert.Contains(" /opt/my_pkg/\n", ProjectTree.Resolve(withDestination).Dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void WithSourceFolder_Missing_Throws()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithSourceFolder(_tree.Path("nowhere")));
        Assert.Equal(_tree.Path("nowhere"), ex.File);
    }

    [Fact]
    public void WithSourceFolder_OutsideProjectRepository_Throws()
    {
        var pyproject = _tree.WriteWorkspace("repo/app");
        Directory.CreateDirectory(_tree.Path("repo/.git"));
        _tree.Write("elsewhere/lib/a.py", "");
        var image = Image.FromDebianBase().WithUvProject(pyproject);
        var ex = Assert.Throws<FlyteSharpException>(() => image.WithSourceFolder(_tree.Path("elsewhere/lib")));
        Assert.Contains("outside the project", ex.Message);
        _tree.Write("repo/libs/inside/a.py", "");
        Assert.Equal(3, image.WithSourceFolder(_tree.Path("repo/libs/inside")).Layers.Count);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void WithSourceFolder_SymlinkInsideRepositoryLeadingOutside_Throws()
    {
        var pyproject = _tree.WriteWorkspace("repo/app");
        Directory.CreateDirectory(_tree.Path("repo/.git"));
        _tree.Write("home/.ssh/id_rsa", "PRIVATE KEY");
        Directory.CreateDirectory(_tree.Path("repo/libs"));
        File.CreateSymbolicLink(_tree.Path("repo/libs/home"), _tree.Path("home"));
        var image = Image.FromDebianBase().WithUvProject(pyproject);

        var ex = Assert.Throws<FlyteSharpException>(() => image.WithSourceFolder(_tree.Path("repo/libs/home")));

        Assert.Contains("outside the project's repository", ex.Message);
        Assert.Contains($"through a symlink it resolves to '{_tree.Path("home")}'", ex.Message);
        var file = Assert.Throws<FlyteSharpException>(() => image.WithSourceFile(_tree.Path("repo/libs/home/.ssh/id_rsa")));
        Assert.Contains("outside the project's repository", file.Message);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void WithSourceFolder_SymlinkStayingInsideRepository_IsAccepted()
    {
        var pyproject = _tree.WriteWorkspace("repo/app");
        Directory.CreateDirectory(_tree.Path("repo/.git"));
        _tree.Write("repo/shared/lib/a.py", "");
        Directory.CreateDirectory(_tree.Path("repo/libs"));
        File.CreateSymbolicLink(_tree.Path("repo/libs/lib"), _tree.Path("repo/shared/lib"));
        Assert.Equal(3, Image.FromDebianBase().WithUvProject(pyproject).WithSourceFolder(_tree.Path("repo/libs/lib")).Layers.Count);
    }

    [Fact]
    public void WithSourceFolder_NoRepositoryFolderOutsideProjectFolder_Throws()
    {
        var pyproject = _tree.WriteWorkspace("proj/app");
        _tree.Write("proj/app/vendored/lib/a.py", "");
        _tree.Write("elsewhere/lib/a.py", "");
        var image = Image.FromDebianBase().WithUvProject(pyproject);

        var ex = Assert.Throws<FlyteSharpException>(() => image.WithSourceFolder(_tree.Path("elsewhere/lib")));

        Assert.Contains($"outside the project folder ({_tree.Path("proj/app")}; the project is in no git repository)", ex.Message);
        Assert.Contains("path dependency", ex.Fix);
        Assert.Equal(3, image.WithSourceFolder(_tree.Path("proj/app/vendored/lib")).Layers.Count);
    }

    [Fact]
    public void WithSourceFolder_NoRepositorySiblingPathDependency_IsInsideTheProjectFolder()
    {
        // Seed Pattern B outside git: my_app depends on ../my_lib by path, so my_lib is part of the project.
        var pyproject = _tree.WriteSiblings("plain");
        Assert.Equal(3, Image.FromDebianBase().WithUvProject(pyproject).WithSourceFolder(_tree.Path("plain/my_lib/src/my_lib")).Layers.Count);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void WithSourceFolder_NoRepositorySymlinkLeadingOutsideProjectFolder_Throws()
    {
        var pyproject = _tree.WriteWorkspace("proj/app");
        _tree.Write("home/.aws/credentials", "secret");
        File.CreateSymbolicLink(_tree.Path("proj/app/lib"), _tree.Path("home"));
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithUvProject(pyproject).WithSourceFolder(_tree.Path("proj/app/lib")));
        Assert.Contains("through a symlink", ex.Message);
    }

    [Theory]
    [InlineData("bad registry", null)]
    [InlineData("localhost:5000", "Bad_Name")]
    [InlineData("localhost:5000", "a//b")]
    [InlineData("http://localhost:5000", null)]
    public void Clone_InvalidRegistryOrName_Throws(string registry, string? name) =>
        Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().Clone(registry, name));

    [Fact]
    public void Resolve_InvalidConfiguredRegistry_ThrowsNamingConfig()
    {
        var config = ProjectTree.Config with { Registry = "bad registry", SourceFile = "/x/flytesharp.toml" };
        var ex = Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().Resolve(new ImageResolveOptions(config)));
        Assert.Equal("/x/flytesharp.toml", ex.File);
    }

    [Fact]
    public void Clone_PythonVersion_ChangesBaseAndTag()
    {
        var image = Image.FromDebianBase("3.12").WithAptPackages("git");
        var clone = image.Clone(pythonVersion: "3.11");
        Assert.Equal("3.11", clone.PythonVersion);
        Assert.StartsWith("FROM python:3.11-slim-bookworm", ProjectTree.Resolve(clone).Dockerfile);
        Assert.NotEqual(ProjectTree.Resolve(image).Tag, ProjectTree.Resolve(clone).Tag);
    }

    [Theory]
    [InlineData("bad package")]
    [InlineData("pkg; rm -rf /")]
    public void WithAptPackages_InvalidName_Throws(string package) =>
        Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithAptPackages(package));

    [Fact]
    public void WithCodeBundle_Twice_Throws() =>
        Assert.Throws<FlyteSharpException>(() => Image.FromDebianBase().WithCodeBundle().WithCodeBundle());

    [Fact]
    public void FromBase_InvalidReference_Throws() =>
        Assert.Throws<FlyteSharpException>(() => Image.FromBase("not a reference"));
}
