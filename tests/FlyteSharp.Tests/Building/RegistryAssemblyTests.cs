using FlyteSharp.Building;
using FlyteSharp.Images;
using FlyteSharp.Tests.Images;

namespace FlyteSharp.Tests.Building;

public sealed class RegistryAssemblyTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Split_SourceFolderEnvWorkdirOnTop_BaseIsTheLayersUpToTheLastRunAndTopIsTheirInstructions()
    {
        _tree.Write("lib/pkg/mod.py", "x = 1\n");
        var image = Image.FromDebianBase().WithAptPackages("git").WithSourceFolder(_tree.Path("lib/pkg"), "/opt/lib")
            .WithEnvVars(new Dictionary<string, string> { ["MODE"] = "prod $HOME" }).WithWorkdir("/app");
        var full = ProjectTree.Resolve(image);

        var (baseLayers, top) = RegistryAssembly.Split(full)!.Value;

        Assert.Equal(2, baseLayers);
        Assert.Collection(top,
            i => Assert.Equal(("/opt/lib", "/opt/lib/mod.py"), (((CopyInstruction)i).Destination, Assert.Single(((CopyInstruction)i).Files).ImagePath)),
            i => Assert.Equal([new("MODE", "prod $HOME")], ((EnvInstruction)i).Variables),
            i => Assert.Equal("/app", ((WorkdirInstruction)i).Path));

        // The base alone renders exactly the Dockerfile's first lines, and the rest is rendered from the same records.
        var @base = ProjectTree.Resolve(image.Take(baseLayers));
        Assert.Equal(full.Dockerfile, @base.Dockerfile + string.Concat(top.Select(i => i.Dockerfile + "\n")));
        Assert.NotEqual(full.Tag, @base.Tag);
    }

    [Fact]
    public void Split_RunAfterTheCopies_NothingToAssemble()
    {
        _tree.Write("lib/pkg/mod.py", "x = 1\n");
        var image = Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/pkg")).WithCommands("echo built");

        Assert.Null(RegistryAssembly.Split(ProjectTree.Resolve(image)));
    }

    [Fact]
    public void Split_CodeBundleInFastDeploy_NothingToAssemble()
    {
        Assert.Null(RegistryAssembly.Split(ProjectTree.Resolve(Image.FromDebianBase().WithCodeBundle())));
    }

    [Fact]
    public void Split_EmptySourceFolder_IsARunSoTheBuilderMakesIt()
    {
        Directory.CreateDirectory(_tree.Path("empty"));
        var image = Image.FromDebianBase().WithEnvVars(new Dictionary<string, string> { ["A"] = "1" }).WithSourceFolder(_tree.Path("empty"));

        Assert.Null(RegistryAssembly.Split(ProjectTree.Resolve(image)));
    }

    [Theory]
    [InlineData("/srv/app", "/srv/app")]
    [InlineData("/srv/../../etc/./x//y/", "/etc/x/y")]
    [InlineData("/..", "/")]
    public void CleanPath_DotsAndDoubledSlashes_NeverLeaveTheRoot(string path, string expected) =>
        Assert.Equal(expected, RegistryAssembly.CleanPath(path));

    [Fact]
    public void Take_DockerignoreAboveTheBase_KeptSoTheBaseSelectsTheSameFiles()
    {
        _tree.Write("lib/pkg/mod.py", "x = 1\n");
        _tree.Write(".dockerignore", "*.tmp\n");
        var image = Image.FromDebianBase().WithSourceFolder(_tree.Path("lib/pkg")).WithDockerignore(_tree.Path(".dockerignore"));

        Assert.IsType<DockerignoreLayer>(image.Take(1).Layers[^1]);
        Assert.Equal(2, image.Take(1).Layers.Count);
    }
}
